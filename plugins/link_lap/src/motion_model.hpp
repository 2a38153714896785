// Per-track Kalman filters for link.lap: a Brownian model, a constant-velocity
// (directed) model, and the interacting multiple model (IMM) that mixes the
// two, as u-track does (Jaqaman et al. 2008; Blom & Bar-Shalom 1988 for the
// IMM recursion). State per model: (x, y, vx, vy); measurement: (x, y).
#pragma once

#include <array>

#include <Eigen/Core>

namespace link_lap {

enum class Motion { Brownian, ConstantVelocity, Imm };

// Noise of the models, per axis, in px^2 (learnt from the data, see
// displacement_scale.hpp). Each TrackFilter keeps its own copy.
struct MotionNoise {
    double step_var = 1.0;     // diffusion per frame (Brownian, and on top of a directed track's drift)
    double meas_var = 0.0;     // localisation error of one detection
    double velocity_var = 1.0; // prior variance of a new track's velocity (px/frame)^2
    double velocity_step_var = 0.05; // change of a directed track's velocity per frame
    double cov_floor = 0.0;    // smallest eigenvalue an innovation covariance may have (the min search radius)
};

using Vec4 = Eigen::Vector4d;
using Mat4 = Eigen::Matrix4d;
using Vec2 = Eigen::Vector2d;
using Mat2 = Eigen::Matrix2d;

constexpr int kModels = 2; // 0 Brownian, 1 constant velocity

// One track's filter predicted some frames ahead: per model the predicted
// state, its covariance, the innovation covariance and the model's predicted
// probability. Enough to score a detection and to correct the filter with it.
struct Prediction {
    std::array<Vec4, kModels> x;
    std::array<Mat4, kModels> P;
    std::array<Mat2, kModels> S, S_inv;
    std::array<double, kModels> weight{};  // predicted model probabilities (0 for a model not in use)
    std::array<double, kModels> log_det{}; // ln det S
};

// Cost of explaining detection z by the prediction: -2 ln of the mixture
// likelihood relative to a reference Gaussian of covariance exp(ref_log_det/2)
// (so for one model with S equal to the reference it is the squared
// Mahalanobis distance). Threading: a pure function.
double link_cost(const Prediction& p, double zx, double zy, double ref_log_det);

// Distance from (cx, cy) = the last measured position within which a
// detection can cost less than `threshold`; an upper bound, for the
// candidate search. Threading: a pure function.
double search_radius(const Prediction& p, double cx, double cy, double threshold, double ref_log_det);

// Threading: a TrackFilter is a value; distinct filters may be used from
// different threads, one filter from one thread at a time.
class TrackFilter {
public:
    TrackFilter(Motion motion, const MotionNoise& noise, double x, double y);

    // The state `frames` frames ahead (>= 1), without changing the filter.
    Prediction predict(int frames) const;
    // Takes the prediction (made by predict of this filter) as the new prior
    // and corrects it with the measurement (zx, zy).
    void update(const Prediction& p, double zx, double zy);

    double x() const { return last_x_; }
    double y() const { return last_y_; }
    double directed_probability() const { return mu_[1]; }

private:
    Motion motion_;
    MotionNoise noise_;
    std::array<Vec4, kModels> x_;
    std::array<Mat4, kModels> P_;
    std::array<double, kModels> mu_{};
    double last_x_, last_y_;
};

} // namespace link_lap

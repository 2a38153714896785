#include "motion_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/LU>


namespace link_lap {
namespace {

// Probability that a track keeps its motion type from one frame to the
// next. u-track's switching models use a sticky chain too; 0.95 lets a
// directed track turn Brownian (a stop, a reflection) within a few frames
// without making every Brownian track look directed after one lucky step.
constexpr double kStay = 0.95;

// Smallest and largest eigenvalue of a symmetric 2 x 2 matrix.
std::pair<double, double> eigen_range(const Mat2& S) {
    const double m = 0.5 * (S(0, 0) + S(1, 1));
    const double d = std::sqrt(std::max(0.0, 0.25 * (S(0, 0) - S(1, 1)) * (S(0, 0) - S(1, 1)) + S(0, 1) * S(1, 0)));
    return {m - d, m + d};
}

double log_sum_exp(const std::array<double, kModels>& a, const std::array<double, kModels>& w) {
    double hi = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < kModels; ++j)
        if (w[j] > 0) hi = std::max(hi, a[j]);
    if (!std::isfinite(hi)) return hi;
    double s = 0;
    for (int j = 0; j < kModels; ++j)
        if (w[j] > 0) s += std::exp(a[j] - hi);
    return hi + std::log(s);
}

} // namespace

TrackFilter::TrackFilter(Motion motion, const MotionNoise& noise, double x, double y)
    : motion_(motion), noise_(noise), last_x_(x), last_y_(y) {
    const double r = std::max(noise.meas_var, 1e-12);
    for (int j = 0; j < kModels; ++j) {
        x_[j] << x, y, 0, 0;
        P_[j] = Vec4(r, r, noise.velocity_var, noise.velocity_var).asDiagonal();
    }
    // A new track is as likely to be either type under IMM.
    mu_ = motion == Motion::Brownian ? std::array<double, kModels>{1, 0}
          : motion == Motion::ConstantVelocity ? std::array<double, kModels>{0, 1}
                                               : std::array<double, kModels>{0.5, 0.5};
}

Prediction TrackFilter::predict(int frames) const {
    Prediction p;
    // IMM mixing: each model starts from the probability-weighted blend of
    // both models' estimates (Blom & Bar-Shalom's interaction step).
    std::array<Vec4, kModels> x0 = x_;
    std::array<Mat4, kModels> P0 = P_;
    if (motion_ == Motion::Imm) {
        for (int j = 0; j < kModels; ++j) {
            double c = 0;
            std::array<double, kModels> m{};
            for (int i = 0; i < kModels; ++i) m[i] = (i == j ? kStay : 1 - kStay) * mu_[i], c += m[i];
            p.weight[j] = c;
            x0[j].setZero();
            for (int i = 0; i < kModels; ++i) x0[j] += (m[i] / c) * x_[i];
            P0[j].setZero();
            for (int i = 0; i < kModels; ++i) {
                const Vec4 d = x_[i] - x0[j];
                P0[j] += (m[i] / c) * (P_[i] + d * d.transpose());
            }
        }
    } else {
        p.weight = mu_;
    }
    const double q = noise_.step_var, qv = noise_.velocity_step_var;
    for (int j = 0; j < kModels; ++j) {
        if (p.weight[j] <= 0) continue;
        Vec4 xs = x0[j];
        Mat4 Ps = P0[j];
        if (j == 0) {
            // Brownian: position random walk, velocity reset to "unknown"
            // (0 with the prior variance), which is what mixing into the
            // directed model needs.
            Ps.block<2, 2>(0, 0) += frames * q * Mat2::Identity();
            Ps.block<2, 2>(0, 2).setZero();
            Ps.block<2, 2>(2, 0).setZero();
            Ps.block<2, 2>(2, 2) = noise_.velocity_var * Mat2::Identity();
            xs.tail<2>().setZero();
        } else {
            Mat4 F = Mat4::Identity();
            F.block<2, 2>(0, 2) = Mat2::Identity();
            const Mat4 Q = Vec4(q, q, qv, qv).asDiagonal();
            for (int k = 0; k < frames; ++k) {
                xs = F * xs;
                Ps = F * Ps * F.transpose() + Q;
            }
        }
        p.x[j] = xs;
        p.P[j] = Ps;
        Mat2 S = Ps.block<2, 2>(0, 0) + noise_.meas_var * Mat2::Identity();
        S = 0.5 * (S + S.transpose());
        const auto [lo, hi] = eigen_range(S);
        if (lo < noise_.cov_floor) S += (noise_.cov_floor - lo) * Mat2::Identity();
        (void)hi;
        p.S[j] = S;
        p.S_inv[j] = S.inverse();
        p.log_det[j] = std::log(S.determinant());
    }
    return p;
}

void TrackFilter::update(const Prediction& p, double zx, double zy) {
    const Vec2 z(zx, zy);
    std::array<double, kModels> a{};
    for (int j = 0; j < kModels; ++j) {
        if (p.weight[j] <= 0) continue;
        const Vec2 innov = z - p.x[j].head<2>();
        const Eigen::Matrix<double, 4, 2> K = p.P[j].leftCols<2>() * p.S_inv[j];
        x_[j] = p.x[j] + K * innov;
        P_[j] = p.P[j] - K * p.P[j].topRows<2>();
        P_[j] = 0.5 * (P_[j] + P_[j].transpose());
        a[j] = std::log(p.weight[j]) - 0.5 * innov.dot(p.S_inv[j] * innov) - 0.5 * p.log_det[j];
    }
    const double lse = log_sum_exp(a, p.weight);
    for (int j = 0; j < kModels; ++j) {
        mu_[j] = p.weight[j] > 0 ? std::exp(a[j] - lse) : 0.0;
        // Keep both models alive under IMM: a probability that underflows to
        // 0 could never come back.
        if (motion_ == Motion::Imm) mu_[j] = std::clamp(mu_[j], 1e-6, 1 - 1e-6);
    }
    last_x_ = zx;
    last_y_ = zy;
}

double link_cost(const Prediction& p, double zx, double zy, double ref_log_det) {
    std::array<double, kModels> a{};
    for (int j = 0; j < kModels; ++j) {
        if (p.weight[j] <= 0) continue;
        const Vec2 d = Vec2(zx, zy) - p.x[j].head<2>();
        a[j] = std::log(p.weight[j]) - 0.5 * d.dot(p.S_inv[j] * d) - 0.5 * (p.log_det[j] - ref_log_det);
    }
    return -2 * log_sum_exp(a, p.weight);
}

double search_radius(const Prediction& p, double cx, double cy, double threshold, double ref_log_det) {
    // cost < T needs one model's term >= exp(-T/2) / kModels, i.e.
    // m_j^2 <= T + 2 ln(kModels w_j) - (ln det S_j - ref).
    double r = 0;
    for (int j = 0; j < kModels; ++j) {
        if (p.weight[j] <= 0) continue;
        const double m2 = threshold + 2 * std::log(kModels * p.weight[j]) - (p.log_det[j] - ref_log_det);
        if (m2 <= 0) continue;
        const double lam = eigen_range(p.S[j]).second;
        r = std::max(r, std::hypot(p.x[j](0) - cx, p.x[j](1) - cy) + std::sqrt(m2 * lam));
    }
    return r;
}

} // namespace link_lap

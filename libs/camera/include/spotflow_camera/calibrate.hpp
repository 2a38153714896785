// Camera calibration from the movie itself: no dark frames, no flat fields.
//
// Photon transfer (Janesick 2007): a pixel of mean m ADU has variance
// slope x (m - offset') with slope = F^2 em_gain / e_per_adu. Two pieces of
// the movie give it without a calibration series:
//  - the background pixels over time: their mean k1, variance k2 and third
//    cumulant k3 (blind to a gradient across the field, since each pixel is
//    centred on its own mean);
//  - the puncta within single frames (not over time: their motion and
//    blinking would count as noise): the variance their fitted models leave
//    beyond the background's, per ADU of signal, is the slope. The detector
//    that fits them sums that evidence in SpotResiduals.
// Then the background's k3 / k2 tells the kinds apart: for Poisson counts
// scaled by 1/g, k3 / k2 = slope (read noise only lowers it); for an EM
// register's compound Poisson-exponential output k3 / k2 = 1.5 x slope, its
// variance being twice the sCMOS expectation (F^2 = 2). The offset is where
// the line k2 = slope (k1 - offset') meets the read noise, checked against
// the darkest pixels.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "spotflow_camera/camera.hpp"

namespace spotflow::camera {

// A bounded sample of a movie: up to max_frames frames of up to max_pixels
// pixels each (a regular grid when the frame is larger), in ADU. The
// caller adds frames; memory stays max_frames x max_pixels floats.
class Sample {
public:
    explicit Sample(int width, int height, int max_frames = 64, int64_t max_pixels = 65536);
    bool full() const { return static_cast<int>(frames_.size()) >= max_frames_; }
    // Adds one frame (row-major, width x height, any numeric type through
    // the getter). Ignored once full. Not thread-safe.
    template <class Get> void add(Get&& value_at) {
        if (full()) return;
        std::vector<float> f;
        f.reserve(index_.size());
        for (const int64_t i : index_) f.push_back(static_cast<float>(value_at(i)));
        frames_.push_back(std::move(f));
    }
    int frames() const { return static_cast<int>(frames_.size()); }
    size_t pixels() const { return index_.size(); }
    const std::vector<float>& frame(int t) const { return frames_[static_cast<size_t>(t)]; }
    double median() const; // of every sampled value

private:
    int max_frames_;
    std::vector<int64_t> index_; // sampled pixel indices
    std::vector<std::vector<float>> frames_;
};

struct Calibration {
    Camera camera;             // kind, baseline_adu, e_per_adu, read_noise_e; qe and em_gain (EMCCD) as assumed
    double slope = 0;          // photon transfer slope, ADU (F^2 x ADU per photo-electron)
    double skew_ratio = 0;     // background k3 / k2 over slope: <= 1 sCMOS, ~1.5 EMCCD
    double background_adu = 0; // mean of the background pixels
    int frames = 0;
    std::string note;          // why a figure is uncertain, or empty
};

// The background's temporal cumulants and the movie's quantiles. Throws
// std::invalid_argument with one line naming the cause for a constant or
// all-zero movie, fewer than 8 frames, or noise unlike photon counts.
// Thread-safe (pure).
struct BackgroundNoise {
    double mean = 0, k2 = 0, k3 = 0; // ADU, ADU^2, ADU^3
    double median = 0, darkest = 0;  // of all sampled values; darkest: the 0.01 % quantile
    int frames = 0;
};
BackgroundNoise background_noise(const Sample& sample);

// A first camera to find and fit spots with before the gain is known:
// Poisson counts without read noise (slope k3 / k2). qe, em_gain as assumed.
Camera provisional(const BackgroundNoise& background, const Camera& assumed);

// Evidence for the slope from spots fitted in the provisional camera's
// Poisson-equivalent counts (where a pixel's variance is b + ratio x
// signal, ratio = slope / provisional slope). Per spot: the sum of squared
// residuals over the `pixels` of its core (where the signal is a sizeable
// part of the model), its fitted background b, the sum of its fitted
// signal there, and the signal's Fisher-weighted mean
// sum(sig^3 / mu) / sum(sig^2 / mu). The fit absorbs about one core
// pixel's variance (b + signal at the Fisher-weighted mean) for each of
// x, y, N and sigma. So
//   E[sum r^2] = (pixels - 4) b + ratio x (sum sig - 4 weighted sig),
// solved for ratio over all spots. Not thread-safe: one per thread, then merge().
// ratio() pools the spots whose own ratio is below twice the median: a spot
// with an unresolved neighbour leaves that neighbour's light as residual,
// and in dense fields such spots are common.
struct SpotResiduals {
    std::vector<std::pair<double, double>> per_spot; // (excess, signal)
    int spots = 0;
    void add_spot(double sum_residual2, int pixels, double background, double sum_signal, double weighted_signal);
    void merge(const SpotResiduals& o) {
        per_spot.insert(per_spot.end(), o.per_spot.begin(), o.per_spot.end());
        spots += o.spots;
    }
    double ratio() const;
};

// The camera from the background's cumulants and the photon transfer
// slope (ADU). qe and em_gain come from `assumed` (an EMCCD's noise fixes
// only em_gain / e_per_adu). Throws std::invalid_argument naming the cause
// for an unusable slope or an offset not below the median. Thread-safe.
Calibration calibrate(const BackgroundNoise& background, double slope, const Camera& assumed);

// A warning line when `stated` contradicts `estimated` by more than a factor
// of `tolerance` in ADU per photo-electron (noise slope) or in signal above
// the offset, naming both figures; empty when they agree.
std::string contradiction(const Camera& stated, const Calibration& estimated, double tolerance = 2.0);

} // namespace spotflow::camera

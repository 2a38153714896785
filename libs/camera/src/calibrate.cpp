#include "spotflow_camera/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace spotflow::camera {

Sample::Sample(int width, int height, int max_frames, int64_t max_pixels) : max_frames_(max_frames) {
    const int64_t total = static_cast<int64_t>(width) * height;
    // A regular grid of at most max_pixels pixels: memory is bounded however
    // large the frame.
    const int stride = total <= max_pixels ? 1
                                           : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(total) /
                                                                                  static_cast<double>(max_pixels))));
    for (int y = 0; y < height; y += stride)
        for (int x = 0; x < width; x += stride) index_.push_back(static_cast<int64_t>(y) * width + x);
}

double Sample::median() const {
    std::vector<float> all;
    for (const auto& f : frames_) all.insert(all.end(), f.begin(), f.end());
    if (all.empty()) return 0;
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2), all.end());
    return all[all.size() / 2];
}

namespace {

[[noreturn]] void fail(const std::string& why) {
    throw std::invalid_argument("camera calibration: " + why +
                                "; state the camera instead (param camera: kind scmos or emccd, with baseline_adu, "
                                "e_per_adu, read_noise_e, em_gain)");
}

double quantile(std::vector<double> v, double q) {
    const auto k = static_cast<std::ptrdiff_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[static_cast<size_t>(k)];
}

struct Bin {
    double mean = 0, var = 0, count = 0;
};

} // namespace

BackgroundNoise background_noise(const Sample& s) {
    const int n = s.frames();
    const size_t np = s.pixels();
    if (n < 8) fail(fmt::format("needs at least 8 frames of the movie, got {}", n));
    double lo = INFINITY, hi = -INFINITY;
    for (int t = 0; t < n; ++t)
        for (const float v : s.frame(t)) lo = std::min(lo, double(v)), hi = std::max(hi, double(v));
    if (!(hi > lo))
        fail(lo == 0 ? "the movie is all zeros: there is no noise to calibrate from"
                     : fmt::format("the movie is constant ({} ADU in every sampled pixel): there is no noise to "
                                   "calibrate from",
                                   lo));
    // Background pixels (the dimmer 40 % by temporal mean): their cumulants
    // over time, as unbiased k-statistics averaged over pixels (so a
    // gradient across the field does not count as noise).
    std::vector<double> pixel_mean(np, 0.0);
    for (int t = 0; t < n; ++t)
        for (size_t p = 0; p < np; ++p) pixel_mean[p] += s.frame(t)[p];
    for (auto& m : pixel_mean) m /= n;
    const double cut = quantile(pixel_mean, 0.4);
    BackgroundNoise r;
    r.frames = n;
    double count = 0;
    const double dn = n;
    for (size_t p = 0; p < np; ++p) {
        if (pixel_mean[p] > cut) continue;
        double m2 = 0, m3 = 0;
        for (int t = 0; t < n; ++t) {
            const double d = s.frame(t)[p] - pixel_mean[p];
            m2 += d * d, m3 += d * d * d;
        }
        m2 /= dn, m3 /= dn;
        r.mean += pixel_mean[p];
        r.k2 += dn / (dn - 1) * m2;
        r.k3 += dn * dn / ((dn - 1) * (dn - 2)) * m3;
        count += 1;
    }
    r.mean /= count, r.k2 /= count, r.k3 /= count;
    if (!(r.k2 > 0)) fail("the background pixels do not vary over time: there is no noise to calibrate from");
    if (!(r.k3 > 0))
        fail(fmt::format("the background's noise is not skewed as photon counts are (third cumulant {:.3g} ADU^3); "
                         "the movie may be processed (background-subtracted, denoised) rather than raw counts",
                         r.k3));
    std::vector<double> all;
    all.reserve(np * static_cast<size_t>(n));
    for (int t = 0; t < n; ++t) all.insert(all.end(), s.frame(t).begin(), s.frame(t).end());
    r.darkest = quantile(all, 1e-4);
    r.median = quantile(all, 0.5);
    return r;
}

Camera provisional(const BackgroundNoise& b, const Camera& assumed) {
    // Poisson counts scaled by 1/g without read noise: k3 / k2 = 1 / g and
    // k2 = (mean - offset) / g.
    Camera c = assumed;
    c.kind = Kind::Scmos;
    const double slope = b.k3 / b.k2;
    c.e_per_adu = 1 / slope;
    c.read_noise_e = 0;
    c.baseline_adu = b.mean - b.k2 / slope;
    return c;
}

void SpotResiduals::add_spot(double sum_residual2, int pixels, double background, double sum_signal,
                             double weighted_signal) {
    const double signal = sum_signal - 4 * weighted_signal;
    if (!(signal > 0)) return;
    per_spot.emplace_back(sum_residual2 - (pixels - 4) * background, signal);
    ++spots;
}

double SpotResiduals::ratio() const {
    if (per_spot.empty()) return 0;
    std::vector<double> r;
    for (const auto& [e, s] : per_spot) r.push_back(e / s);
    const double median = quantile(r, 0.5);
    double excess = 0, signal = 0;
    for (const auto& [e, s] : per_spot)
        if (e / s <= 2 * std::max(median, 0.0) + 0.1) excess += e, signal += s;
    return signal > 0 ? excess / signal : 0;
}

Calibration calibrate(const BackgroundNoise& b, double slope, const Camera& assumed) {
    if (!(slope > 0) || !std::isfinite(slope))
        fail(fmt::format("the spots' noise gives no usable gain (photon transfer slope {:.3g} ADU)", slope));
    Calibration r;
    r.frames = b.frames;
    r.slope = slope;
    r.background_adu = b.mean;
    r.skew_ratio = (b.k3 / b.k2) / slope;
    Camera& cam = r.camera;
    cam = assumed;
    // sCMOS: <= 1 (read noise adds variance without skew); EMCCD: 1.5.
    cam.kind = r.skew_ratio > 1.05 ? Kind::Emccd : Kind::Scmos; // between the two, leaning to EMCCD: the slope estimate runs 10-25 % high
    const double per_electron = slope / cam.excess_noise(); // ADU per photo-electron
    const double offset_apparent = b.mean - b.k2 / slope;   // where the shot-noise line meets zero variance
    if (cam.kind == Kind::Scmos) {
        // k3 = lambda s^3 and k2 = (lambda + read^2) s^2, in electrons.
        const double lambda = b.k3 / (slope * slope * slope);
        const double total = b.k2 / (slope * slope);
        const double read2 = std::clamp(total - lambda, 0.0, 0.9 * total);
        cam.e_per_adu = 1 / per_electron;
        cam.read_noise_e = std::sqrt(read2);
        cam.baseline_adu = offset_apparent + read2 * slope;
    } else {
        // The register's output swamps the read noise: the line meets the
        // offset. Only em_gain / e_per_adu is identifiable.
        cam.e_per_adu = cam.em_gain / per_electron;
        cam.baseline_adu = offset_apparent;
    }
    if (!(cam.baseline_adu < b.median))
        fail(fmt::format("the estimated offset ({:.1f} ADU) is not below the movie's median ({:.1f} ADU)",
                         cam.baseline_adu, b.median));
    // The darkest pixels bound the offset: one more than 6 read-noise sd
    // above the darkest 0.01 % of values is suspect.
    const double read_adu = cam.read_noise_e / cam.e_per_adu;
    if (cam.baseline_adu > b.darkest + 6 * read_adu + 1)
        r.note = fmt::format("the estimated offset {:.1f} ADU is above the darkest pixels ({:.1f} ADU)",
                             cam.baseline_adu, b.darkest);
    return r;
}

std::string contradiction(const Camera& stated, const Calibration& est, double tolerance) {
    std::string out;
    const double a = stated.ptc_slope(), b = est.slope;
    if (std::max(a, b) > tolerance * std::min(a, b))
        out = fmt::format("the stated camera ({}, e_per_adu {:g}{}) predicts {:.3g} ADU^2 of noise variance per ADU "
                          "of signal, the movie's noise gives {:.3g} ({} frames)",
                          stated.kind == Kind::Emccd ? "emccd" : "scmos", stated.e_per_adu,
                          stated.kind == Kind::Emccd ? fmt::format(", em_gain {:g}", stated.em_gain) : "", a, b,
                          est.frames);
    const double sa = est.background_adu - stated.baseline_adu, sb = est.background_adu - est.camera.baseline_adu;
    if (sb > 0 && (sa <= 0 || std::max(sa, sb) > tolerance * std::min(sa, sb)))
        out += fmt::format("{}the stated offset {:g} ADU puts the background {:.3g} ADU above it, the movie's noise "
                           "puts it {:.3g} ADU above an offset of {:.1f}",
                           out.empty() ? "" : "; ", stated.baseline_adu, sa, sb, est.camera.baseline_adu);
    return out;
}

} // namespace spotflow::camera

// detect.wavelet's work on one frame: camera counts to Poisson-equivalent
// counts (libs/camera), wavelet candidates, MLE fit, a likelihood-ratio
// test per candidate, clean-up. Everything here is pure: call it from any
// thread with its own inputs.
#pragma once

#include <vector>

#include <dlpack/dlpack.h>

#include "mle_fit.hpp"
#include "spotflow_camera/calibrate.hpp"
#include "spotflow_camera/camera.hpp"
#include "wavelet.hpp"

namespace detect_wavelet {

struct Settings {
    // The default criterion: a candidate is kept when its generalised
    // likelihood ratio exceeds llr_threshold, set from the expected false
    // positives per frame (see glrt_threshold).
    double llr_threshold = 25;
    // Candidates: W2 above candidate_z local noise sd (from the camera model).
    double candidate_z = 4.0;
    // > 0: the old criterion instead (W2 peak over threshold x robust std of
    // W1, no test).
    double contrast_threshold = 0;
    int border = 1;
    FitOptions fit;
    spotflow::camera::Camera camera;
    double max_shift = 1.5; // px a fit may move from its peak before it is taken for a neighbour's
    // Close pairs: a peak whose one-emitter fit leaves a poor deviance is
    // refitted as two emitters, kept when the log-likelihood ratio
    // 2 (ll2 - ll1) exceeds split_threshold (chi-square, 3 more parameters).
    bool split_pairs = true;
    double split_threshold = 30;
};

struct Detection {
    double x, y, photons, background, sigma, uncertainty, probability;
    double llr = 0;        // 2 (ll1 - ll0) of the central spot
    bool isolated = true;  // no other candidate within reach of its window
};

// What a frame says about the noise, for the camera check.
struct FrameNoise {
    double w1_measured = 0; // robust std of W1
    double w1_expected = 0; // what the camera model predicts for it
};

// Frame t of a T x H x W CPU tensor of any integer or float type, in ADU,
// to Poisson-equivalent counts u (variance = mean; spotflow_camera's
// poisson_scale). Throws std::invalid_argument for another dtype.
Image to_counts(const DLTensor& movie, int64_t t, const spotflow::camera::PoissonScale& u);

// The likelihood-ratio threshold that gives `false_positives` expected
// false detections per frame of `pixels` pixels: each pixel is one test of
// a spot of unknown amplitude (N >= 0, so the null law is half a
// chi-square with 1 degree of freedom), a Bonferroni bound over pixels.
double glrt_threshold(double false_positives, double pixels);

std::vector<Detection> detect_frame(const Image& counts, const Settings& s, FrameNoise* noise = nullptr);

// The PSF sigma from the brightest isolated spots of some frames (their
// one-emitter fits with sigma free): the median, or `fallback` when fewer
// than 5 spots qualify (*used tells how many did).
double estimate_sigma(const std::vector<Image>& frames, const Settings& s, double fallback, int* used);

} // namespace detect_wavelet

namespace detect_wavelet {

// The camera from the movie itself (spotflow_camera/calibrate.hpp): the
// background's cumulants from `sample`, and the photon transfer slope from
// the residuals of bright isolated spots fitted (sigma free) in up to 32 of
// `adu_frames` under a provisional camera. *sigma gets those spots' median
// PSF width (unchanged when fewer than 5), *spots their number. Throws
// std::invalid_argument naming the cause (constant movie, too few puncta).
spotflow::camera::Calibration estimate_camera(const spotflow::camera::Sample& sample, const DLTensor& movie,
                                              const Settings& base, const spotflow::camera::Camera& assumed,
                                              double* sigma, int* spots);

} // namespace detect_wavelet

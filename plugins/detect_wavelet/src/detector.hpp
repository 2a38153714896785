// detect.wavelet's work on one frame: camera counts to photo-electrons,
// wavelet detection, MLE fit, clean-up.
#pragma once

#include <vector>

#include <dlpack/dlpack.h>

#include "mle_fit.hpp"
#include "wavelet.hpp"

namespace detect_wavelet {

struct Camera {
    double baseline_adu = 100;
    double e_per_adu = 0.5;
    double qe = 0.9;
    double read_noise_e = 1.5;
    double em_gain = 1;       // 1: sCMOS / CCD; > 1: EMCCD
    double excess_noise = 1;  // F^2: 2 for an EMCCD's gain register
};

struct Settings {
    double threshold = 3.0;   // in robust std of the first wavelet plane
    int border = 1;
    FitOptions fit;
    Camera camera;
    double max_shift = 1.5;   // px a fit may move from its peak before it is taken for a neighbour's
    // Close pairs: a peak whose one-emitter fit leaves a poor deviance is
    // refitted as two emitters, kept when the log-likelihood ratio
    // 2 (ll2 - ll1) exceeds split_threshold (chi-square, 3 more parameters).
    bool split_pairs = true;
    double split_threshold = 30;
};

struct Detection {
    double x, y, photons, background, sigma, uncertainty, probability;
};

// Frame t of a T x H x W CPU tensor of any integer or float type, in ADU,
// to photo-electrons. Throws std::invalid_argument for another dtype.
Image to_electrons(const DLTensor& movie, int64_t t, const Camera& c);

std::vector<Detection> detect_frame(const Image& electrons, const Settings& s);

} // namespace detect_wavelet

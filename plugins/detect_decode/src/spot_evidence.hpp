// The spot half of libs/camera's calibration (spotflow_camera/calibrate.hpp)
// for detect.decode: the network's confident, isolated detections on the
// first frames (in the provisional camera's Poisson-equivalent counts) are
// refitted by maximum likelihood (Fisher scoring: x, y, photons,
// background, sigma of a pixel-integrated Gaussian, libs/psf) and their
// residuals over the core go to camera::SpotResiduals exactly as
// detect.wavelet's fits do (core: signal >= 30 % of the background, at
// least 6 pixels; window half width 5). The background cumulants, the
// provisional camera, the pooling and the camera itself are libs/camera's.
#pragma once

#include <vector>

#include "spotflow_camera/calibrate.hpp"

namespace detect_decode {

struct Frame {
    int width = 0, height = 0;
    std::vector<float> u; // Poisson-equivalent counts, row-major
    float at(int x, int y) const { return u[static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)]; }
};

struct Candidate {
    double x = 0, y = 0, photons = 0, background = 0; // the network's, in the frame's units
};

struct SpotFit {
    double x = 0, y = 0, photons = 0, background = 0, sigma = 0;
    bool converged = false;
};

// Poisson MLE of one spot on the (2 half_width + 1)^2 window around the
// candidate's pixel, started at the candidate and sigma0. Thread-safe.
SpotFit fit_spot(const Frame& f, const Candidate& c, double sigma0, int half_width = 5);

// Adds the evidence of one fitted spot (nothing when its core has fewer
// than 6 pixels). Returns whether it was added.
bool add_evidence(const Frame& f, const SpotFit& s, int half_width, spotflow::camera::SpotResiduals& ev);

} // namespace detect_decode

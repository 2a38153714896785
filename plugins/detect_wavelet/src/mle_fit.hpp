// Maximum-likelihood fit of a pixel-integrated Gaussian spot on a constant
// background under Poisson noise, and the Cramér–Rao bound of its
// parameters from the Fisher information at the fit.
#pragma once

#include <utility>
#include <vector>

#include "wavelet.hpp"

namespace detect_wavelet {

struct FitOptions {
    double sigma = 1.3;         // PSF standard deviation in px (start value when fitted)
    bool fit_sigma = false;     // fit sigma as a fifth parameter
    int half_width = 4;         // ROI is (2 half_width + 1)^2, clipped to the image
    int max_iterations = 30;
    // Read-noise variance in e-^2 added to data and model (the sCMOS
    // approximation of Huang et al. 2013: Poisson(mu + var) ~ Poisson + Gaussian).
    double read_variance = 0;
};

struct Fit {
    double x = 0, y = 0;     // px, image coordinates
    double photons = 0;      // total signal, in the units of the image (e-)
    double background = 0;   // per pixel
    double sigma = 0;
    // Per-parameter CRLB standard deviations (x, y, photons, background).
    double crlb_x = 0, crlb_y = 0, crlb_photons = 0, crlb_background = 0;
    int iterations = 0;
    bool converged = false;
    double log_likelihood = 0; // of the whole window's model at the fit (up to a constant)
    double deviance = 0;       // Poisson deviance of the window: ~ chi-square(pixels - parameters) for a right model
    int pixels = 0;            // in the window
    // The window's log-likelihood without the central spot(s): the
    // neighbours as fitted, the background refitted. 2 (log_likelihood -
    // null_log_likelihood) is the generalised likelihood ratio of "spot +
    // background" against "background" (Smith et al. 2015).
    double null_log_likelihood = 0;
};

// Fits the spot whose peak is at pixel (px, py) of `image` (values in
// photo-electrons, offset removed), jointly with the spots peaking at
// `neighbours` (pixel positions inside or near the window) so that their
// light does not bias it: the model is one background plus one
// integrated Gaussian per spot, and the Cramér–Rao bound reported for the
// central spot accounts for its neighbours. Returns converged = false when
// the fit leaves the ROI or the Fisher matrix is singular.
Fit fit_spot(const Image& image, int px, int py, const std::vector<std::pair<int, int>>& neighbours,
             const FitOptions& options);

// The same window fitted with the central spot as two emitters, started at
// the sub-pixel positions a and b (photons split evenly), for a
// likelihood-ratio test against fit_spot's one. Returns both fits (each
// with its own CRLB; log_likelihood and deviance are the window's).
std::pair<Fit, Fit> fit_pair(const Image& image, int px, int py, const std::vector<std::pair<int, int>>& neighbours,
                             std::pair<double, double> a, std::pair<double, double> b, const FitOptions& options);

// Fraction of a unit-integral Gaussian (centre c, sd s) falling in pixel k,
// i.e. over [k - 0.5, k + 0.5].
double pixel_fraction(double c, double s, int k);

} // namespace detect_wavelet

// The pixel-integrated Gaussian PSF. A pixel k spans [k - 0.5, k + 0.5)
// (pixel centres at integers, the project's convention), so the fraction of
// a spot's photons at centre x0 that lands in it is
//   (erf((k + 0.5 - x0) / (sqrt(2) sigma)) - erf((k - 0.5 - x0) / (sqrt(2) sigma))) / 2,
// and in 2-D the product of the x and y fractions.
#pragma once

#include <cstdint>
#include <vector>

namespace sim {

// Pixels farther than this many sigma from the centre get nothing: they would
// hold under 6e-5 of the photons (erf(4 / sqrt 2) = 0.99994).
constexpr double kPsfRadiusSigmas = 4.0;

struct AxisWeights {
    int64_t first = 0;           // first pixel of the window, clipped to the image
    std::vector<double> weight;  // fraction of the photons in pixels first, first + 1, ...
    double sum() const;
};

// The window of pixels of an axis of `size` pixels within kPsfRadiusSigmas
// sigma of `centre`, clipped to the image, with their integrated weights.
AxisWeights integrated_gaussian(double centre, double sigma, int64_t size);

} // namespace sim

#include "spotflow_psf/crlb.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace spotflow::psf {
namespace {

// 10-point Gauss–Legendre nodes and weights on [-1, 1] (positive half).
constexpr double kNode[5] = {0.1488743389816312, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845,
                             0.9739065285171717};
constexpr double kWeight[5] = {0.2955242247147529, 0.2692667193099963, 0.2190863625159820, 0.1494513491505806,
                               0.0666713443086881};

// ∫₀¹ ln t / (1 + t/τ) dt. With t = e^{-u} it becomes
// -∫₀^∞ u e^{-u} / (1 + e^{-u}/τ) du: no log singularity, analytic with its
// nearest complex poles at distance π from the real axis, so 10-point
// Gauss–Legendre on panels of length 2.5 converges to rounding. The tail
// beyond u = 40 is below (40 + 1) e^{-40} < 2e-16.
double mortensen_integral(double tau) {
    constexpr int kPanels = 16;
    constexpr double kEnd = 40.0, kHalf = kEnd / kPanels / 2;
    double sum = 0;
    for (int p = 0; p < kPanels; ++p) {
        const double mid = (2 * p + 1) * kHalf;
        for (int k = 0; k < 5; ++k)
            for (const double u : {mid - kHalf * kNode[k], mid + kHalf * kNode[k]}) {
                const double e = std::exp(-u);
                sum += kWeight[k] * u * e / (1.0 + e / tau);
            }
    }
    return -sum * kHalf;
}

} // namespace

double crlb_mortensen_px(double n, double b, double s, double excess) {
    if (!(n > 0) || !(s > 0) || !(b >= 0) || !(excess > 0) || !std::isfinite(n) || !std::isfinite(b) ||
        !std::isfinite(s) || !std::isfinite(excess))
        throw std::invalid_argument("crlb: needs finite photons > 0, sigma > 0, background >= 0, excess noise > 0 (got " +
                                    std::to_string(n) + ", " + std::to_string(s) + ", " + std::to_string(b) + ", " +
                                    std::to_string(excess) + ")");
    const double sa2 = s * s + 1.0 / 12.0;
    if (b == 0) return std::sqrt(excess * sa2 / n); // the integral tends to 0 as tau -> 0
    const double tau = 2 * M_PI * sa2 * b / n;
    const double var = (sa2 / n) / (1 + mortensen_integral(tau));
    return std::sqrt(excess * var);
}

double integrated_gaussian_1d(double centre, double sigma, int pixel) {
    if (!(sigma > 0)) throw std::invalid_argument("integrated_gaussian_1d: sigma must be > 0");
    const double k = 1.0 / (std::sqrt(2.0) * sigma);
    const double lo = (pixel - 0.5 - centre) * k, hi = (pixel + 0.5 - centre) * k;
    // erfc of the side away from the mean keeps the far tails exact.
    if (lo >= 0) return 0.5 * (std::erfc(lo) - std::erfc(hi));
    if (hi <= 0) return 0.5 * (std::erfc(-hi) - std::erfc(-lo));
    return 0.5 * (std::erf(hi) - std::erf(lo));
}

} // namespace spotflow::psf

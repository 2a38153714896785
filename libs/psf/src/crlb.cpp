#include "spotflow_psf/crlb.hpp"

#include <cmath>
#include <stdexcept>

namespace spotflow::psf {
namespace {

// ∫₀¹ ln t / (1 + t/τ) dt. The substitution t = e^{-u} removes the log
// singularity at 0: -∫₀^∞ u e^{-u} / (1 + e^{-u}/τ) du is smooth and decays
// like u e^{-u}, so composite Simpson on [0, 60] is exact to rounding (the
// tail beyond 60 is below 1e-24).
double mortensen_integral(double tau) {
    const int n = 6000; // even
    const double h = 60.0 / n;
    double s = 0;
    for (int i = 0; i <= n; ++i) {
        const double u = i * h;
        const double f = -u * std::exp(-u) / (1.0 + std::exp(-u) / tau);
        s += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
    }
    return s * h / 3;
}

} // namespace

double crlb_mortensen_px(double n, double b, double s, double excess) {
    if (!(n > 0) || !(s > 0) || b < 0 || !(excess > 0))
        throw std::invalid_argument("crlb: needs photons > 0, sigma > 0, background >= 0");
    const double sa2 = s * s + 1.0 / 12.0;
    if (b == 0) return std::sqrt(excess * sa2 / n); // the integral tends to 0 as tau -> 0
    const double tau = 2 * M_PI * sa2 * b / n;
    const double var = (sa2 / n) / (1 + mortensen_integral(tau));
    return std::sqrt(excess * var);
}

} // namespace spotflow::psf

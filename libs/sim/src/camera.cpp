#include "spotflow_sim/camera.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sim {

std::unique_ptr<DiscreteSampler> background_adu(const CameraParams& c, double photons_per_pixel) {
    const double lambda = c.qe * photons_per_pixel;
    if (c.kind != CameraKind::Scmos || lambda > 1e4) return nullptr;
    int64_t first_e = 0;
    const std::vector<double> pe = poisson_pmf(lambda, &first_e);
    const double sd = c.read_noise_e / c.e_per_adu; // read noise in ADU
    // ADU v = baseline + n / g + N(0, sd) becomes a when a - 0.5 <= v < a + 0.5,
    // with everything below 0.5 at 0 and from 65534.5 on at 65535.
    const double reach = 10 * sd + 1;
    const auto lowest = static_cast<int64_t>(
        std::clamp(std::floor(c.baseline_adu + static_cast<double>(first_e) / c.e_per_adu - reach), 0.0, 65535.0));
    const auto highest = static_cast<int64_t>(std::clamp(
        std::ceil(c.baseline_adu + static_cast<double>(first_e + static_cast<int64_t>(pe.size())) / c.e_per_adu + reach),
        0.0, 65535.0));
    if (highest - lowest > 30000) return nullptr;
    std::vector<double> pmf(static_cast<size_t>(highest - lowest + 1), 0.0);
    const auto below = [&](double edge, double mean) { // P(v < edge)
        if (sd == 0) return mean < edge ? 1.0 : 0.0;
        return 0.5 * std::erfc((mean - edge) / (sd * std::sqrt(2.0)));
    };
    for (size_t k = 0; k < pe.size(); ++k) {
        const double mean = c.baseline_adu + static_cast<double>(first_e + static_cast<int64_t>(k)) / c.e_per_adu;
        const auto a0 = static_cast<int64_t>(std::clamp(std::floor(mean - reach), double(lowest), double(highest)));
        const auto a1 = static_cast<int64_t>(std::clamp(std::ceil(mean + reach), double(lowest), double(highest)));
        double left = a0 == 0 ? 0.0 : below(static_cast<double>(a0) - 0.5, mean);
        for (int64_t a = a0; a <= a1; ++a) {
            const double right = a == 65535 ? 1.0 : below(static_cast<double>(a) + 0.5, mean);
            pmf[static_cast<size_t>(a - lowest)] += pe[k] * (right - left);
            left = right;
        }
    }
    return std::make_unique<DiscreteSampler>(lowest, pmf);
}

} // namespace sim

#include "spotflow_sim/psf.hpp"

#include <algorithm>
#include <cmath>

namespace sim {

double AxisWeights::sum() const {
    double s = 0;
    for (const double w : weight) s += w;
    return s;
}

AxisWeights integrated_gaussian(double centre, double sigma, int64_t size) {
    const double reach = kPsfRadiusSigmas * sigma;
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(centre - reach - 0.5)) + 1);
    const int64_t hi = std::min<int64_t>(size - 1, static_cast<int64_t>(std::ceil(centre + reach + 0.5)) - 1);
    AxisWeights w;
    w.first = lo;
    if (hi < lo) return w;
    const double scale = 1.0 / (std::sqrt(2.0) * sigma);
    double left = std::erf((static_cast<double>(lo) - 0.5 - centre) * scale);
    w.weight.reserve(static_cast<size_t>(hi - lo + 1));
    for (int64_t k = lo; k <= hi; ++k) {
        const double right = std::erf((static_cast<double>(k) + 0.5 - centre) * scale);
        w.weight.push_back(0.5 * (right - left));
        left = right;
    }
    return w;
}

} // namespace sim

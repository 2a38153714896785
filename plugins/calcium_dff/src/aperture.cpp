#include "aperture.hpp"

#include <algorithm>
#include <cmath>

namespace calcium_dff {

std::optional<double> measure(const std::vector<float>& frame, int w, int h, double x, double y, const Aperture& a) {
    const int r = static_cast<int>(std::ceil(a.annulus_outer));
    const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
    double sum = 0;
    int n = 0;
    std::vector<float> ring;
    for (int j = std::max(0, cy - r); j <= std::min(h - 1, cy + r); ++j)
        for (int i = std::max(0, cx - r); i <= std::min(w - 1, cx + r); ++i) {
            const double d = std::hypot(i - x, j - y);
            const float v = frame[static_cast<size_t>(j) * w + i];
            if (d <= a.radius) {
                sum += v;
                ++n;
            } else if (d >= a.annulus_inner && d <= a.annulus_outer) {
                ring.push_back(v);
            }
        }
    if (n == 0 || ring.size() < 4) return std::nullopt;
    auto mid = ring.begin() + static_cast<std::ptrdiff_t>(ring.size() / 2);
    std::nth_element(ring.begin(), mid, ring.end());
    double background = *mid;
    if (ring.size() % 2 == 0) background = 0.5 * (background + *std::max_element(ring.begin(), mid));
    return sum / n - background;
}

} // namespace calcium_dff

#include "wavelet.hpp"

#include <algorithm>
#include <cmath>

namespace detect_wavelet {
namespace {

// Mirror an index into [0, n): -1 -> 1, n -> n - 2.
inline int mirror(int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

// Separable B3 smoothing with `step` between taps (1 for V1, 2 for V2).
Image smooth(const Image& in, int step) {
    static constexpr float k[5] = {1.f / 16, 4.f / 16, 6.f / 16, 4.f / 16, 1.f / 16};
    const int w = in.width, h = in.height;
    Image tmp{w, h, std::vector<float>(in.pixels.size())};
    Image out{w, h, std::vector<float>(in.pixels.size())};
    for (int y = 0; y < h; ++y) {
        const float* row = &in.pixels[static_cast<size_t>(y) * w];
        float* dst = &tmp.pixels[static_cast<size_t>(y) * w];
        const int lo = 2 * step, hi = w - 2 * step;
        for (int x = 0; x < w; ++x) {
            float s = 0;
            if (x >= lo && x < hi) {
                for (int t = 0; t < 5; ++t) s += k[t] * row[x + (t - 2) * step];
            } else {
                for (int t = 0; t < 5; ++t) s += k[t] * row[mirror(x + (t - 2) * step, w)];
            }
            dst[x] = s;
        }
    }
    for (int y = 0; y < h; ++y) {
        const float* rows[5];
        for (int t = 0; t < 5; ++t) rows[t] = &tmp.pixels[static_cast<size_t>(mirror(y + (t - 2) * step, h)) * w];
        float* dst = &out.pixels[static_cast<size_t>(y) * w];
        for (int x = 0; x < w; ++x) {
            float s = 0;
            for (int t = 0; t < 5; ++t) s += k[t] * rows[t][x];
            dst[x] = s;
        }
    }
    return out;
}

Image difference(const Image& a, const Image& b) {
    Image d{a.width, a.height, std::vector<float>(a.pixels.size())};
    for (size_t i = 0; i < a.pixels.size(); ++i) d.pixels[i] = a.pixels[i] - b.pixels[i];
    return d;
}

} // namespace

WaveletPlanes wavelet_planes(const Image& v0) {
    const Image v1 = smooth(v0, 1);
    const Image v2 = smooth(v1, 2);
    return {difference(v0, v1), difference(v1, v2)};
}

double robust_std(const Image& plane) {
    if (plane.pixels.empty()) return 0;
    std::vector<float> v = plane.pixels;
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    const float median = *mid;
    for (auto& x : v) x = std::fabs(x - median);
    std::nth_element(v.begin(), mid, v.end());
    return 1.4826 * static_cast<double>(*mid);
}

std::vector<Peak> local_maxima(const Image& p, float threshold, int border) {
    std::vector<Peak> out;
    const int w = p.width, h = p.height;
    const int b = std::max(border, 1);
    for (int y = b; y < h - b; ++y) {
        const float* r = &p.pixels[static_cast<size_t>(y) * w];
        for (int x = b; x < w - b; ++x) {
            const float c = r[x];
            if (!(c > threshold)) continue;
            const float* up = r - w;
            const float* dn = r + w;
            // Strictly greater than the neighbours before it in raster
            // order, at least as great as those after: a plateau gives one.
            if (c > up[x - 1] && c > up[x] && c > up[x + 1] && c > r[x - 1] && c >= r[x + 1] && c >= dn[x - 1] &&
                c >= dn[x] && c >= dn[x + 1])
                out.push_back({x, y, c});
        }
    }
    return out;
}

} // namespace detect_wavelet

#include "postprocess.hpp"

#include <algorithm>

namespace decode {

std::vector<Localisation> postprocess(const float* maps, int64_t h, int64_t w, const PostSettings& s) {
    const int64_t n = h * w;
    const float* p = maps; // channel 0
    const auto at = [&](int64_t y, int64_t x) { return (y < 0 || y >= h || x < 0 || x >= w) ? 0.0f : p[y * w + x]; };
    const double raw_th = s.candidate_threshold;
    std::vector<Localisation> out;
    for (int64_t y = s.border_px; y < h - s.border_px; ++y)
        for (int64_t x = s.border_px; x < w - s.border_px; ++x) {
            const float v = p[y * w + x];
            if (!(v > raw_th) && !(v > s.split_threshold)) continue;
            // A 3x3 maximum of the probabilities clipped at raw_th (DECODE:
            // p == maxpool(p * (p > raw_th)); a pixel tied with a neighbour
            // is a maximum too, as there).
            bool is_max = v > raw_th;
            for (int dy = -1; dy <= 1 && is_max; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const float q = at(y + dy, x + dx);
                    if (q > raw_th && q > v) {
                        is_max = false;
                        break;
                    }
                }
            // Non-maxima above split_threshold stay: two emitters in adjacent pixels.
            if (!is_max && !(v > s.split_threshold)) continue;
            // Probability integrated over the plus-shaped neighbourhood, clamped to 1.
            const double sum = std::min(1.0, double(v) + at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1));
            if (!(sum >= s.detection_threshold)) continue;
            const int64_t i = y * w + x;
            Localisation l;
            l.probability = sum;
            l.photons = maps[1 * n + i] * s.photon_scale;
            l.x = double(x) + maps[2 * n + i];
            l.y = double(y) + maps[3 * n + i];
            l.photons_sigma = maps[4 * n + i] * s.photon_scale;
            l.x_sigma = maps[5 * n + i];
            l.y_sigma = maps[6 * n + i];
            l.background = maps[7 * n + i] * s.background_scale;
            out.push_back(l);
        }
    return out;
}

} // namespace decode

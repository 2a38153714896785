#include "spotflow_decode/postprocess.hpp"

#include <algorithm>
#include <cmath>

namespace decode {

namespace {

// The precision-weighted mean (p / (sigma_x^2 + sigma_y^2)) of the
// positions predicted by the 3x3 pixels around (x, y) that lie within
// agree_px of the candidate's own prediction, so a neighbouring emitter's
// components stay out. The sigmas stay the candidate pixel's: the
// components share most of their input, so their errors are not
// independent and the combined sigma would be over-confident.
void combine_components(const float* maps, int64_t h, int64_t w, int64_t x, int64_t y, double agree_px,
                        Localisation* l) {
    const int64_t n = h * w;
    double sw = 0, sx = 0, sy = 0;
    for (int64_t yy = std::max<int64_t>(0, y - 1); yy <= std::min(h - 1, y + 1); ++yy)
        for (int64_t xx = std::max<int64_t>(0, x - 1); xx <= std::min(w - 1, x + 1); ++xx) {
            const int64_t k = yy * w + xx;
            const double px = double(xx) + maps[2 * n + k], py = double(yy) + maps[3 * n + k];
            if (std::hypot(px - l->x, py - l->y) > agree_px) continue;
            const double vx = maps[5 * n + k], vy = maps[6 * n + k];
            const double wk = maps[k] / std::max(1e-12, vx * vx + vy * vy);
            sw += wk, sx += wk * px, sy += wk * py;
        }
    if (sw > 0) l->x = sx / sw, l->y = sy / sw;
}

} // namespace

std::vector<Localisation> postprocess(const float* maps, int64_t h, int64_t w, const PostSettings& s) {
    const int64_t n = h * w;
    const float* p = maps; // channel 0
    const auto at = [&](int64_t y, int64_t x) { return (y < 0 || y >= h || x < 0 || x >= w) ? 0.0f : p[y * w + x]; };
    const double raw_th = s.candidate_threshold;
    std::vector<Localisation> out;
    struct Seed {
        int64_t x, y;
        float p;
    };
    std::vector<Seed> seeds; // out[k] came from pixel seeds[k]
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
            // Probability integrated over the neighbourhood, clamped to 1.
            double sum = double(v) + at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1);
            if (s.integration == Integration::Square)
                sum += double(at(y - 1, x - 1)) + at(y - 1, x + 1) + at(y + 1, x - 1) + at(y + 1, x + 1);
            sum = std::min(1.0, sum);
            if (!(sum >= s.detection_threshold)) continue;
            const int64_t i = y * w + x;
            Localisation l;
            l.probability = sum;
            l.photons = maps[1 * n + i] * s.photon_scale;
            l.x = double(x) + maps[2 * n + i];
            l.y = double(y) + maps[3 * n + i];
            if (s.position == Position::Mixture) combine_components(maps, h, w, x, y, s.agree_px, &l);
            l.photons_sigma = maps[4 * n + i] * s.photon_scale;
            l.x_sigma = maps[5 * n + i];
            l.y_sigma = maps[6 * n + i];
            l.background = maps[7 * n + i] * s.background_scale;
            // One emitter, two candidates: split_threshold (or a tie) can
            // make a second candidate of an emitter on a pixel boundary.
            // Adjacent candidates whose positions agree within agree_px are
            // one detection, the one with the higher p; two emitters in
            // adjacent pixels predict positions about 1 px apart and stay.
            bool merged = false;
            for (size_t k = out.size(); s.merge_agreeing && k-- > 0 && seeds[k].y >= y - 1;) {
                if (std::abs(seeds[k].x - x) > 1 || std::hypot(out[k].x - l.x, out[k].y - l.y) > s.agree_px) continue;
                if (v > seeds[k].p) out[k] = l, seeds[k] = {x, y, v};
                merged = true;
                break;
            }
            if (merged) continue;
            out.push_back(l);
            seeds.push_back({x, y, v});
        }
    return out;
}

} // namespace decode

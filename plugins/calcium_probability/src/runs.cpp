#include "runs.hpp"

namespace calcium_probability {

std::vector<Run> find_runs(const std::vector<int64_t>& frames, const std::vector<double>& p, const RunOptions& o) {
    std::vector<Run> runs;
    bool open = false;
    Run cur;
    double sum = 0;
    auto close = [&] {
        if (open && cur.active_frames >= o.min_frames) {
            cur.mean_probability = sum / cur.active_frames;
            runs.push_back(cur);
        }
        open = false;
    };
    for (std::size_t k = 0; k < frames.size(); ++k) {
        if (!(p[k] >= o.threshold)) continue;
        if (open && frames[k] - frames[cur.end] - 1 > o.max_gap_frames) close();
        if (!open) {
            cur = Run{k, k, k, 0, p[k], 0};
            sum = 0;
            open = true;
        }
        cur.end = k;
        ++cur.active_frames;
        sum += p[k];
        if (p[k] > cur.peak_probability) cur.peak_probability = p[k], cur.peak = k;
    }
    close();
    return runs;
}

} // namespace calcium_probability

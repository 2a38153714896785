#include "statistics_figure.hpp"

#include <algorithm>
#include <map>
#include <cstdint>

#include <fmt/format.h>

#include "spotflow_plot/plot.hpp"

namespace tracks_summary {
namespace plot = spotflow::plot;

namespace {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// Integer-valued data get one bin per value up to 60 values, wider bins
// beyond, so a histogram of lengths never shows empty comb teeth.
std::vector<double> integer_edges(double max_value) {
    const int64_t top = std::max<int64_t>(1, static_cast<int64_t>(max_value));
    const int64_t width = std::max<int64_t>(1, (top + 59) / 60);
    std::vector<double> edges;
    for (int64_t e = 0; e <= top + width; e += width) edges.push_back(static_cast<double>(e) + 0.5);
    return edges;
}

std::vector<double> counts_in(const std::vector<double>& values, const std::vector<double>& edges) {
    std::vector<double> counts(edges.size() - 1, 0.0);
    for (double v : values) {
        const auto it = std::upper_bound(edges.begin(), edges.end(), v);
        if (it == edges.begin() || it == edges.end()) continue;
        counts[static_cast<size_t>(it - edges.begin() - 1)] += 1;
    }
    return counts;
}

plot::Axes axes(std::string title, std::string xlabel, std::string ylabel) {
    plot::Axes a;
    a.title = std::move(title);
    a.xlabel = std::move(xlabel);
    a.ylabel = std::move(ylabel);
    return a;
}

} // namespace

void draw_track_statistics(const std::string& path, const std::vector<TrackStats>& tracks, double frame_interval_s) {
    std::vector<double> lengths, durations;
    int64_t first = 0, last = 0;
    for (const TrackStats& t : tracks) {
        lengths.push_back(static_cast<double>(t.length));
        durations.push_back(static_cast<double>(t.duration));
        if (lengths.size() == 1) first = t.start_frame, last = t.end_frame;
        first = std::min(first, t.start_frame);
        last = std::max(last, t.end_frame);
    }

    plot::Figure fig(1400, 1000, 2, 2, fmt::format("Track statistics: {} tracks", tracks.size()));
    const double max_len = lengths.empty() ? 1 : *std::max_element(lengths.begin(), lengths.end());
    const double max_dur = durations.empty() ? 1 : *std::max_element(durations.begin(), durations.end());
    const auto len_edges = integer_edges(max_len), dur_edges = integer_edges(max_dur);
    fig.histogram_counts(0, axes("Track length", "detections per track", "tracks"), len_edges,
                         counts_in(lengths, len_edges));
    if (!lengths.empty()) fig.vline(0, mean(lengths), fmt::format("mean {:.1f}", mean(lengths)), plot::Vermilion);
    fig.histogram_counts(1, axes("Track duration", "last - first frame + 1 (frames)", "tracks"), dur_edges,
                         counts_in(durations, dur_edges));
    if (!durations.empty())
        fig.vline(1, mean(durations), fmt::format("mean {:.1f}", mean(durations)), plot::Vermilion);

    // Tracks alive per frame: a flat line is a steady population; steps
    // show births and deaths, or a linker cutting tracks.
    plot::Series alive{"tracks alive", {}, {}, plot::Series::Line};
    if (!tracks.empty()) {
        // Only the frames where the count changes: a dense per-frame array
        // would follow a typo'd frame number (1e9) into gigabytes.
        std::map<int64_t, double> delta;
        for (const TrackStats& t : tracks) {
            delta[t.start_frame] += 1;
            delta[t.end_frame + 1] -= 1;
        }
        double n = 0;
        for (const auto& [f, d] : delta) {
            if (f > last + 1) break;
            if (!alive.x.empty()) { // hold the count up to this frame: a step
                alive.x.push_back(static_cast<double>(f) - 1);
                alive.y.push_back(n);
            }
            n += d;
            if (f > last) break;
            alive.x.push_back(static_cast<double>(f));
            alive.y.push_back(n);
        }
    }
    plot::Axes alive_axes = axes("Tracks alive per frame", "frame", "tracks");
    alive_axes.legend = false;
    fig.lines(2, alive_axes, {alive});

    const auto share = [&](auto pred) {
        const auto n = std::count_if(lengths.begin(), lengths.end(), pred);
        return lengths.empty() ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(lengths.size());
    };
    std::vector<std::string> lines = {
        // At most 8 lines of ~34 characters: what the text panel shows.
        fmt::format("tracks: {}, frames {} to {}", tracks.size(), first, last),
        fmt::format("length: mean {:.1f}, median {:.1f}", mean(lengths), median(lengths)),
        fmt::format("longest track: {:.0f} points", max_len),
        fmt::format("duration: mean {:.1f}, median {:.1f}", mean(durations), median(durations)),
        fmt::format("short (<= 3): {:.1f} %", share([](double l) { return l <= 3; })),
        fmt::format("medium (4-10): {:.1f} %", share([](double l) { return l > 3 && l <= 10; })),
        fmt::format("long (> 10): {:.1f} %", share([](double l) { return l > 10; })),
    };
    if (frame_interval_s > 0)
        lines.push_back(fmt::format("mean duration: {:.2f} s", mean(durations) * frame_interval_s));
    fig.text(3, lines, "Summary");
    fig.save_png(path);
}

} // namespace tracks_summary

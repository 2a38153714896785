#include "overlay_drawing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"
#include "spotflow_plot/plot.hpp"

namespace figure_tracks {

int automatic_scale(int64_t width, int64_t height) {
    const int64_t side = std::max<int64_t>(1, std::max(width, height));
    return static_cast<int>(std::clamp<int64_t>((768 + side - 1) / side, 1, 8));
}

std::pair<double, std::string> scale_bar_length(int64_t width_px, double pixel_size_nm) {
    const double target_nm = 0.2 * static_cast<double>(width_px) * pixel_size_nm;
    const double decade = std::pow(10.0, std::floor(std::log10(target_nm)));
    double nm = decade;
    for (const double m : {2.0, 5.0, 10.0})
        if (m * decade <= target_nm) nm = m * decade;
    const std::string label = nm >= 1000 ? fmt::format("{:g} µm", nm / 1000) : fmt::format("{:g} nm", nm);
    return {nm / pixel_size_nm, label};
}

namespace {

int chroma(spotflow::plot::Rgb c) { return std::max({c.r, c.g, c.b}) - std::min({c.r, c.g, c.b}); }
int luma(spotflow::plot::Rgb c) { return 299 * c.r + 587 * c.g + 114 * c.b; }

// From the shared qualitative palette: the colours that stand out from a
// grey image (chroma of at least 60 of 255) for the tracks, and the darkest
// one to outline them where they cross the bright trail the projection
// leaves.
struct TrackColours {
    std::vector<int> tracks;
    int outline = 0;
};

TrackColours track_colours() {
    using spotflow::plot::palette;
    TrackColours c;
    const auto same = [](spotflow::plot::Rgb a, spotflow::plot::Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
    int n = 1;
    while (n < 256 && !same(palette(n), palette(0))) ++n; // the palette cycles: its size
    for (int i = 0; i < n; ++i) {
        if (chroma(palette(i)) >= 60) c.tracks.push_back(i);
        if (luma(palette(i)) < luma(palette(c.outline))) c.outline = i;
    }
    if (c.tracks.empty()) c.tracks.push_back(0);
    return c;
}

} // namespace

Drawn draw_overlay(const std::string& path, const MaxProjection& projection,
                   const std::map<int64_t, std::vector<PathPoint>>& tracks, const OverlayStyle& style) {
    const int w = static_cast<int>(projection.width()), h = static_cast<int>(projection.height());
    const int scale = style.scale > 0 ? style.scale : automatic_scale(w, h);
    const std::vector<float> image(projection.pixels().begin(), projection.pixels().end());
    spotflow::plot::Overlay overlay(image.data(), w, h, scale);

    // Colours follow the drawn tracks' order (by id), cycling.
    const TrackColours colours = track_colours();
    int64_t drawn = 0;
    std::vector<std::pair<double, double>> xy;
    for (const auto& [id, points] : tracks) {
        if (static_cast<int64_t>(points.size()) < style.min_points || points.empty()) continue;
        const int colour = colours.tracks[static_cast<size_t>(drawn) % colours.tracks.size()];
        xy.clear();
        for (const PathPoint& p : points) xy.emplace_back(p.x, p.y);
        overlay.polyline(xy, colours.outline, 4.0);
        overlay.polyline(xy, colour, 2.0);
        // Where the track starts: a ring of 5 output pixels at any scale.
        const double ring = 5.0 / scale;
        overlay.circle(points.front().x, points.front().y, ring, colours.outline, 4.0);
        overlay.circle(points.front().x, points.front().y, ring, colour, 2.0);
        ++drawn;
    }
    const int64_t total = static_cast<int64_t>(tracks.size());
    std::string title = style.title;
    if (title.empty()) {
        title = drawn == total ? fmt::format("{} tracks", drawn) : fmt::format("{} of {} tracks", drawn, total);
        title += fmt::format(" over the maximum projection of {} frames", projection.frames());
    }
    overlay.title(title);
    if (style.pixel_size_nm > 0) {
        const auto [length_px, label] = scale_bar_length(w, style.pixel_size_nm);
        overlay.scale_bar(length_px, label);
    }
    try {
        overlay.save_png(path);
    } catch (const std::runtime_error& e) {
        throw spotflow::PluginError(SPOTFLOW_ERR_IO, e.what());
    }
    return {scale, drawn};
}

} // namespace figure_tracks

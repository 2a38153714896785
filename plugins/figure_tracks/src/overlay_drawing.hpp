// The tracks overlay: tracks over the movie's maximum projection, one colour
// per track, the start of each marked, a scale bar when the pixel size is
// known, a title with the track count.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "max_projection.hpp"
#include "track_paths.hpp"

namespace figure_tracks {

struct OverlayStyle {
    int scale;          // output pixels per image pixel; 0 = automatic
    int64_t min_points; // tracks with fewer detections are not drawn
    double pixel_size_nm; // 0 = unknown: no scale bar
    std::string title;  // empty = automatic
};

struct Drawn {
    int scale;      // output pixels per image pixel
    int64_t tracks; // drawn
};

// The scale factor used when OverlayStyle::scale is 0: the longer side of
// the image reaches 768 output pixels, within 1..8.
int automatic_scale(int64_t width, int64_t height);

// A scale-bar length of 1, 2 or 5 x 10^k nm close to a fifth of the image
// width, and its label ("2 µm", "500 nm").
std::pair<double, std::string> scale_bar_length(int64_t width_px, double pixel_size_nm);

// Draws and writes the PNG. Throws PluginError(SPOTFLOW_ERR_IO) if it cannot
// be written.
Drawn draw_overlay(const std::string& path, const MaxProjection& projection,
                   const std::map<int64_t, std::vector<PathPoint>>& tracks, const OverlayStyle& style);

} // namespace figure_tracks

// track_statistics.png (seed 000's "length/duration histograms"): how long
// the tracks are, how much of the movie they span, and how many are alive
// in each frame, with the figures a reader quotes in a text panel.
#pragma once

#include <string>
#include <vector>

#include "summary.hpp"

namespace tracks_summary {

// Draws the figure to `path`. frame_interval_s > 0 adds the duration in
// seconds to the text panel. Throws std::runtime_error if it cannot be written.
void draw_track_statistics(const std::string& path, const std::vector<TrackStats>& tracks, double frame_interval_s);

} // namespace tracks_summary

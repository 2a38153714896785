#include "track_paths.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow_tables/track_rows.hpp"

namespace figure_tracks {

using spotflow::PluginError;

void TrackPaths::add(const spotflow_packet& packet) {
    const spotflow::tables::TrackRows t(packet, "the tracks input");
    for (int64_t r = 0; r < t.rows(); ++r, ++rows_) {
        const spotflow::tables::TrackRow p = t.row(r, rows_);
        if (p.has_position()) tracks_[p.track_id].push_back({p.frame, p.x, p.y});
    }
}

const std::map<int64_t, std::vector<PathPoint>>& TrackPaths::sorted() {
    for (auto& [id, points] : tracks_)
        std::stable_sort(points.begin(), points.end(),
                         [](const PathPoint& a, const PathPoint& b) { return a.frame < b.frame; });
    return tracks_;
}

} // namespace figure_tracks

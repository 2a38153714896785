#include "track_paths.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"

namespace figure_tracks {

using spotflow::PluginError;

void TrackPaths::add(const spotflow_packet& packet) {
    if (packet.kind != SPOTFLOW_DATA_TABLE)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "the tracks input received a tensor");
    try {
        const spotflow::TableView t(packet.schema, packet.array);
        const int64_t f = t.require("frame"), x = t.require("x"), y = t.require("y"), id = t.require("track_id");
        for (int64_t r = 0; r < t.rows(); ++r, ++rows_) {
            if (t.is_null(f, r) || t.is_null(id, r))
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) + " has no " +
                                                                     (t.is_null(f, r) ? "frame" : "track_id"));
            const double px = t.get_double(x, r), py = t.get_double(y, r);
            if (std::isnan(px) || std::isnan(py)) continue;
            tracks_[t.get_int(id, r)].push_back({t.get_int(f, r), px, py});
        }
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
}

const std::map<int64_t, std::vector<PathPoint>>& TrackPaths::sorted() {
    for (auto& [id, points] : tracks_)
        std::stable_sort(points.begin(), points.end(),
                         [](const PathPoint& a, const PathPoint& b) { return a.frame < b.frame; });
    return tracks_;
}

} // namespace figure_tracks

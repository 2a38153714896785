#include "track_points.hpp"

#include <algorithm>
#include <cmath>

#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow_tables/track_rows.hpp"

namespace io_isbi {

using spotflow::PluginError;

void TrackPoints::add(const spotflow_packet& packet) {
    const spotflow::tables::TrackRows t(packet, "write.isbi_xml");
    for (int64_t r = 0; r < t.rows(); ++r, ++rows_) {
        const spotflow::tables::TrackRow p = t.row(r, rows_);
        if (!p.has_position()) {
            ++skipped_;
            continue;
        }
        tracks_[p.track_id].push_back({p.frame, p.x, p.y, p.z});
    }
}

const std::map<int64_t, std::vector<Detection>>& TrackPoints::sorted() {
    for (auto& [id, points] : tracks_) {
        std::stable_sort(points.begin(), points.end(), [](const Detection& a, const Detection& b) { return a.t < b.t; });
        for (size_t i = 1; i < points.size(); ++i)
            if (points[i].t == points[i - 1].t)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "track " + std::to_string(id) +
                                                                     " has two points in frame " +
                                                                     std::to_string(points[i].t));
    }
    return tracks_;
}

} // namespace io_isbi

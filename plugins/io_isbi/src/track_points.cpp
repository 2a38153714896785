#include "track_points.hpp"

#include <algorithm>
#include <cmath>

#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"

namespace io_isbi {

using spotflow::PluginError;

void TrackPoints::add(const spotflow_packet& packet) {
    if (packet.kind != SPOTFLOW_DATA_TABLE)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "write.isbi_xml received a tensor; it writes tracks tables");
    try {
        const spotflow::TableView t(packet.schema, packet.array);
        const int64_t f = t.require("frame"), x = t.require("x"), y = t.require("y"), id = t.require("track_id");
        const int64_t z = t.find("z");
        for (int64_t r = 0; r < t.rows(); ++r, ++rows_) {
            if (t.is_null(f, r) || t.is_null(id, r))
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) + " has no " +
                                                                     (t.is_null(f, r) ? "frame" : "track_id"));
            const int64_t frame = t.get_int(f, r);
            if (frame < 0)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) +
                                                                     " has frame " + std::to_string(frame));
            const double px = t.get_double(x, r), py = t.get_double(y, r);
            const double pz = z >= 0 ? t.get_double(z, r) : 0.0;
            if (!std::isfinite(px) || !std::isfinite(py) || !std::isfinite(pz)) {
                ++skipped_;
                continue;
            }
            tracks_[t.get_int(id, r)].push_back({frame, px, py, pz});
        }
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
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

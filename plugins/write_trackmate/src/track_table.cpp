#include "track_table.hpp"

#include <cmath>
#include <limits>

#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"

namespace write_trackmate {

using spotflow::PluginError;

namespace {

bool is_core(std::string_view name) {
    return name == "frame" || name == "x" || name == "y" || name == "z" || name == "track_id";
}

} // namespace

void TrackTable::add(const spotflow_packet& packet) {
    if (packet.kind != SPOTFLOW_DATA_TABLE)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "write.trackmate_xml received a tensor; it writes tracks tables");
    try {
        const spotflow::TableView t(packet.schema, packet.array);
        const int64_t f = t.require("frame"), x = t.require("x"), y = t.require("y"), id = t.require("track_id");
        const int64_t z = t.find("z");
        if (!started_) {
            for (int64_t c = 0; c < t.columns(); ++c)
                if (!is_core(t.column_name(c)) && !t.is_string(c))
                    extras_.push_back({std::string(t.column_name(c)), t.column_format(c) != 'f' && t.column_format(c) != 'g'});
            started_ = true;
        }
        std::vector<int64_t> extra_cols;
        for (const ExtraColumn& e : extras_) {
            const int64_t c = t.find(e.name);
            if (c < 0)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "the tracks batch starting at row " +
                                                                     std::to_string(rows_) + " lacks column '" + e.name +
                                                                     "' of the first batch");
            extra_cols.push_back(c);
        }
        for (int64_t r = 0; r < t.rows(); ++r, ++rows_) {
            if (t.is_null(f, r) || t.is_null(id, r))
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) + " has no " +
                                                                     (t.is_null(f, r) ? "frame" : "track_id"));
            const int64_t frame = t.get_int(f, r), track = t.get_int(id, r);
            if (frame < 0 || frame > std::numeric_limits<int32_t>::max())
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) + " has frame " +
                                                                     std::to_string(frame));
            // TrackMate reads track ids as Java ints.
            if (track < std::numeric_limits<int32_t>::min() || track > std::numeric_limits<int32_t>::max())
                throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "track_id " + std::to_string(track) +
                                                                " does not fit TrackMate's 32-bit track ids");
            const double px = t.get_double(x, r), py = t.get_double(y, r);
            const double pz = z >= 0 ? t.get_double(z, r) : 0.0;
            if (!std::isfinite(px) || !std::isfinite(py) || !std::isfinite(pz)) {
                ++skipped_;
                continue;
            }
            points_.push_back({frame, px, py, pz, track});
            for (const int64_t c : extra_cols) extra_values_.push_back(t.get_double(c, r));
        }
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
}

} // namespace write_trackmate

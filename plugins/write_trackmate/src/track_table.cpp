#include "track_table.hpp"

#include <cmath>
#include <limits>

#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow_tables/track_rows.hpp"

namespace write_trackmate {

using spotflow::PluginError;

namespace {

bool is_core(std::string_view name) {
    return name == "frame" || name == "x" || name == "y" || name == "z" || name == "track_id";
}

} // namespace

void TrackTable::add(const spotflow_packet& packet) {
    const spotflow::tables::TrackRows rows(packet, "write.trackmate_xml");
    const spotflow::TableView& t = rows.table();
    try {
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
            const spotflow::tables::TrackRow p = rows.row(r, rows_);
            if (p.frame > std::numeric_limits<int32_t>::max())
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) + " has frame " +
                                                                     std::to_string(p.frame));
            // TrackMate reads track ids as Java ints.
            if (p.track_id < std::numeric_limits<int32_t>::min() || p.track_id > std::numeric_limits<int32_t>::max())
                throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "track_id " + std::to_string(p.track_id) +
                                                                " does not fit TrackMate's 32-bit track ids");
            if (!p.has_position()) {
                ++skipped_;
                continue;
            }
            points_.push_back({p.frame, p.x, p.y, p.z, p.track_id});
            for (const int64_t c : extra_cols) extra_values_.push_back(t.get_double(c, r));
        }
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
}

} // namespace write_trackmate

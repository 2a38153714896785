#include "spotflow_tables/track_rows.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "spotflow/plugin_error.hpp"

namespace spotflow::tables {

namespace {

TableView open(const spotflow_packet& packet, const char* consumer) {
    if (packet.kind != SPOTFLOW_DATA_TABLE)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(consumer) + " received a tensor; it reads tracks tables");
    try {
        return TableView(packet.schema, packet.array);
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
}

} // namespace

bool TrackRow::has_position() const { return std::isfinite(x) && std::isfinite(y) && std::isfinite(z); }

TrackRows::TrackRows(const spotflow_packet& packet, const char* consumer) : table_(open(packet, consumer)) {
    try {
        f_ = table_.require("frame"), x_ = table_.require("x"), y_ = table_.require("y");
        id_ = table_.require("track_id");
        z_ = table_.find("z");
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
}

TrackRow TrackRows::row(int64_t r, int64_t row_number) const {
    if (table_.is_null(f_, r) || table_.is_null(id_, r))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(row_number) + " has no " +
                                                             (table_.is_null(f_, r) ? "frame" : "track_id"));
    TrackRow t;
    try {
        t.frame = table_.get_int(f_, r);
        t.track_id = table_.get_int(id_, r);
        t.x = table_.get_double(x_, r); // null reads as NaN
        t.y = table_.get_double(y_, r);
        t.z = z_ >= 0 ? table_.get_double(z_, r) : 0.0;
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
    if (t.frame < 0)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "tracks row " + std::to_string(row_number) + " has frame " + std::to_string(t.frame));
    return t;
}

} // namespace spotflow::tables

// The rows of a tracks table (frame, x, y, optional z, track_id), read with
// the checks every tracks consumer makes: one home for the writers and
// figures that take tracks batch by batch.
#pragma once

#include <cstdint>

#include "spotflow/packet.h"
#include "spotflow/table.hpp"

namespace spotflow::tables {

struct TrackRow {
    int64_t frame = 0, track_id = 0;
    double x = 0, y = 0, z = 0; // z is 0 when the table has no z column
    // false when x, y or z is null, NaN or infinite: a frame the track bridges.
    bool has_position() const;
};

class TrackRows {
public:
    // Checks the packet is a table with frame, x, y and track_id columns:
    // PluginError(INVALID_ARGUMENT) "<consumer> received a tensor; it reads
    // tracks tables", or "tracks table: table has no column 'track_id'".
    TrackRows(const spotflow_packet& packet, const char* consumer);

    int64_t rows() const { return table_.rows(); }
    const TableView& table() const { return table_; }

    // Row r; `row_number` (counted over the stream) names it in errors:
    // "tracks row N has no frame" / "has no track_id" / "has frame -1".
    TrackRow row(int64_t r, int64_t row_number) const;

private:
    TableView table_;
    int64_t f_ = -1, x_ = -1, y_ = -1, z_ = -1, id_ = -1;
};

} // namespace spotflow::tables

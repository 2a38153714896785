#pragma once
// Tracks tables for plugin tests: rows of frame, x, y, track_id as an owned
// table packet, the fixture the tracks readers, writers and filters share.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "plugin_harness.hpp"

namespace spotflow::testing {

struct TrackPoint {
    int64_t frame;
    std::optional<double> x, y;   // missing: null (a frame the track bridges)
    std::optional<int64_t> track; // missing: null
};

// A finished table as a packet: total_frames -1, pixel size and frame interval as given.
inline std::unique_ptr<OwnedPacket> table_packet(TableBuilder& b, double pixel_size_nm = 0, double frame_interval_s = 0) {
    auto p = std::make_unique<OwnedPacket>();
    p->p.kind = SPOTFLOW_DATA_TABLE;
    p->p.info.total_frames = -1;
    p->p.info.pixel_size_nm = pixel_size_nm;
    p->p.info.frame_interval_s = frame_interval_s;
    b.finish(&p->p.schema, &p->p.array);
    return p;
}

struct TrackTableOptions {
    bool track_id = true; // false: frame, x, y only (a table the tracks plugins refuse)
    double pixel_size_nm = 0, frame_interval_s = 0;
};

// frame (Int64), x, y (Float64), track_id (Int64), one row per point.
inline std::unique_ptr<OwnedPacket> tracks_packet(const std::vector<TrackPoint>& points, TrackTableOptions o = {}) {
    TableBuilder b;
    const size_t f = b.add_column("frame", ColumnType::Int64);
    const size_t x = b.add_column("x", ColumnType::Float64);
    const size_t y = b.add_column("y", ColumnType::Float64);
    const size_t id = o.track_id ? b.add_column("track_id", ColumnType::Int64) : 0;
    for (const TrackPoint& p : points) {
        b.append_int(f, p.frame);
        p.x ? b.append_double(x, *p.x) : b.append_null(x);
        p.y ? b.append_double(y, *p.y) : b.append_null(y);
        if (!o.track_id) continue;
        p.track ? b.append_int(id, *p.track) : b.append_null(id);
    }
    return table_packet(b, o.pixel_size_nm, o.frame_interval_s);
}

} // namespace spotflow::testing

#include "tables.hpp"

#include <iterator>

#include <fmt/format.h>

#include "spotflow/table.hpp"

namespace sim {

using spotflow::ColumnType;

void truth_table(const std::vector<TruthRow>& rows, ArrowSchema* schema, ArrowArray* array) {
    spotflow::TableBuilder b;
    const size_t frame = b.add_column("frame", ColumnType::Int64);
    const size_t x = b.add_column("x", ColumnType::Float64);
    const size_t y = b.add_column("y", ColumnType::Float64);
    const size_t photons = b.add_column("photons", ColumnType::Float64);
    const size_t track = b.add_column("track_id", ColumnType::Int64);
    b.reserve(rows.size());
    for (const TruthRow& r : rows) {
        b.append_int(frame, r.frame);
        b.append_double(x, r.x);
        b.append_double(y, r.y);
        b.append_double(photons, r.photons);
        b.append_int(track, r.track_id);
    }
    b.finish(schema, array);
}

void events_table(const std::vector<CalciumEvent>& events, ArrowSchema* schema, ArrowArray* array) {
    spotflow::TableBuilder b;
    const size_t track = b.add_column("track_id", ColumnType::Int64);
    const size_t onset = b.add_column("onset_frame", ColumnType::Int64);
    const size_t peak = b.add_column("peak_frame", ColumnType::Int64);
    const size_t amplitude = b.add_column("amplitude_dff", ColumnType::Float64);
    const size_t decay = b.add_column("decay_frames", ColumnType::Float64);
    b.reserve(events.size());
    for (const CalciumEvent& e : events) {
        b.append_int(track, e.track_id);
        b.append_int(onset, e.onset_frame);
        b.append_int(peak, e.peak_frame);
        b.append_double(amplitude, e.amplitude_dff);
        b.append_double(decay, e.decay_frames);
    }
    b.finish(schema, array);
}

std::string truth_csv_header() { return "frame,x,y,photons,track_id\n"; }

// Floats in their shortest round-trip form, as write.csv prints them.
void append_truth_csv(std::string& out, const std::vector<TruthRow>& rows) {
    auto it = std::back_inserter(out);
    for (const TruthRow& r : rows) fmt::format_to(it, "{},{},{},{},{}\n", r.frame, r.x, r.y, r.photons, r.track_id);
}

std::string events_csv(const std::vector<CalciumEvent>& events) {
    std::string out = "track_id,onset_frame,peak_frame,amplitude_dff,decay_frames\n";
    auto it = std::back_inserter(out);
    for (const CalciumEvent& e : events)
        fmt::format_to(it, "{},{},{},{},{}\n", e.track_id, e.onset_frame, e.peak_frame, e.amplitude_dff,
                       e.decay_frames);
    return out;
}

} // namespace sim

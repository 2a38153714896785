#include "tables.hpp"

#include <numeric>

#include "spotflow/table.hpp"
#include "spotflow_csv/csv_writer.hpp"

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

namespace {

// A table of `rows` (made by `make`) as CSV through libs/csv, write.csv's
// formatting: the header if asked, then the rows.
template <class Rows>
void append_csv(std::string& out, const Rows& rows, void (*make)(const Rows&, ArrowSchema*, ArrowArray*),
                bool header) {
    ArrowSchema schema{};
    ArrowArray array{};
    make(rows, &schema, &array);
    try {
        const spotflow::TableView table(schema, array);
        std::vector<int64_t> all(static_cast<size_t>(table.columns()));
        std::iota(all.begin(), all.end(), int64_t{0});
        if (header) spotflow_csv::append_header(out, table, all);
        spotflow_csv::append_rows(out, table, all);
    } catch (...) {
        spotflow::release_table(&schema, &array);
        throw;
    }
    spotflow::release_table(&schema, &array);
}

} // namespace

std::string truth_csv_header() {
    std::string out;
    append_csv(out, std::vector<TruthRow>{}, truth_table, true);
    return out;
}

void append_truth_csv(std::string& out, const std::vector<TruthRow>& rows) { append_csv(out, rows, truth_table, false); }

std::string events_csv(const std::vector<CalciumEvent>& events) {
    std::string out;
    append_csv(out, events, events_table, true);
    return out;
}

} // namespace sim

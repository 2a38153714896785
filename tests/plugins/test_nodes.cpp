// Plugins that exist to test the host: small, deterministic, and able to
// fail on request. Not installed, not bundled.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow/plugin.h"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"

namespace {

using nlohmann::json;

void fail(const spotflow_host* h, spotflow_status s, const std::string& m) { h->set_error(h, s, m.c_str()); }

// ---- test.count_source: a table stream of `chunks` batches of `rows` rows.
struct CountSource {
    const spotflow_host* host;
    int64_t chunks, rows, fail_at, next = 0;
};

void* count_create(const spotflow_host* h, const char* params) {
    const json p = json::parse(params);
    return new CountSource{h, p["chunks"], p["rows"], p["fail_at"]};
}

spotflow_status count_pull(void* self, const spotflow_emitter* out) {
    auto& s = *static_cast<CountSource*>(self);
    if (s.next == s.chunks) return SPOTFLOW_DONE;
    if (s.next == s.fail_at) {
        fail(s.host, SPOTFLOW_ERR_FORMAT, "chunk " + std::to_string(s.next) + " is corrupt (asked to fail)");
        return SPOTFLOW_ERR_FORMAT;
    }
    spotflow::TableBuilder b;
    const auto frame = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto value = b.add_column("value", spotflow::ColumnType::Float64);
    for (int64_t r = 0; r < s.rows; ++r) {
        b.append_int(frame, s.next);
        b.append_double(value, static_cast<double>(s.next * s.rows + r));
    }
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    p.info.frame_offset = s.next;
    p.info.frame_count = 1;
    p.info.total_frames = s.chunks;
    b.finish(&p.schema, &p.array);
    s.host->progress(s.host, ++s.next, s.chunks);
    return out->emit(out, 0, &p);
}

spotflow_status nothing_to_finish(void*, const spotflow_emitter*) { return SPOTFLOW_OK; }
void count_destroy(void* self) { delete static_cast<CountSource*>(self); }

const spotflow_port_desc count_out[] = {{"numbers", "detections", SPOTFLOW_DATA_TABLE, 0, "frame, value"}};
const spotflow_node_vtable count_vt = {count_create, count_pull, nullptr, nothing_to_finish, count_destroy};
const spotflow_plugin_desc count_desc = {
    "test.count_source", "1.0.0", "Emits numbered rows", "source", nullptr, 0, 1, count_out,
    R"({"type":"object","additionalProperties":false,"properties":{
        "chunks":{"type":"integer","minimum":0,"default":10,"description":"batches"},
        "rows":{"type":"integer","minimum":1,"default":3,"description":"rows per batch"},
        "fail_at":{"type":"integer","default":-1,"description":"fail at this batch"}}})",
    &count_vt, nullptr};

// ---- test.movie_source: T x H x W uint16 frames whose pixels hold the frame index.
struct MovieSource {
    const spotflow_host* host;
    int64_t frames, chunk, size, next = 0;
};

void* movie_create(const spotflow_host* h, const char* params) {
    const json p = json::parse(params);
    return new MovieSource{h, p["frames"], p["chunk"], p["size"]};
}

spotflow_status movie_pull(void* self, const spotflow_emitter* out) {
    auto& s = *static_cast<MovieSource*>(self);
    if (s.next >= s.frames) return SPOTFLOW_DONE;
    const int64_t n = std::min(s.chunk, s.frames - s.next);
    std::vector<uint16_t> data(static_cast<size_t>(n * s.size * s.size));
    for (int64_t t = 0; t < n; ++t)
        std::fill(data.begin() + t * s.size * s.size, data.begin() + (t + 1) * s.size * s.size, static_cast<uint16_t>(s.next + t));
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TENSOR;
    p.info = {s.next, n, s.frames, 100.0, 0.05, 0, 0};
    p.tensor = spotflow::make_tensor<uint16_t>({n, s.size, s.size}, std::move(data));
    s.next += n;
    s.host->progress(s.host, s.next, s.frames);
    return out->emit(out, 0, &p);
}

void movie_destroy(void* self) { delete static_cast<MovieSource*>(self); }

const spotflow_port_desc movie_out[] = {{"movie", "movie", SPOTFLOW_DATA_TENSOR, 0, "frames"}};
const spotflow_node_vtable movie_vt = {movie_create, movie_pull, nullptr, nothing_to_finish, movie_destroy};
const spotflow_plugin_desc movie_desc = {
    "test.movie_source", "1.0.0", "Emits frames filled with their index", "source", nullptr, 0, 1, movie_out,
    R"({"type":"object","additionalProperties":false,"properties":{
        "frames":{"type":"integer","minimum":0,"default":20,"description":"frames"},
        "chunk":{"type":"integer","minimum":1,"default":4,"description":"frames per chunk"},
        "size":{"type":"integer","minimum":1,"default":8,"description":"height and width"}}})",
    &movie_vt, nullptr};

// ---- test.frame_counter: movie in, one row per frame out (frame, mean);
// optionally slow, to exercise backpressure.
struct FrameCounter {
    const spotflow_host* host;
    int sleep_ms;
    int64_t fail_at_frame;
};

void* counter_create(const spotflow_host* h, const char* params) {
    const json p = json::parse(params);
    return new FrameCounter{h, p["sleep_ms"], p["fail_at_frame"]};
}

spotflow_status counter_process(void* self, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter* out) {
    auto& s = *static_cast<FrameCounter*>(self);
    if (s.sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(s.sleep_ms));
    const DLTensor& t = in->tensor->dl_tensor;
    const int64_t plane = t.shape[1] * t.shape[2];
    spotflow::TableBuilder b;
    const auto frame = b.add_column("frame", spotflow::ColumnType::Int64);
    const auto mean = b.add_column("mean", spotflow::ColumnType::Float64);
    for (int64_t f = 0; f < t.shape[0]; ++f) {
        if (in->info.frame_offset + f == s.fail_at_frame) {
            fail(s.host, SPOTFLOW_ERR_FORMAT, "frame " + std::to_string(s.fail_at_frame) + ": asked to fail mid-stream");
            return SPOTFLOW_ERR_FORMAT;
        }
        double sum = 0;
        for (int64_t i = 0; i < plane; ++i) sum += spotflow::element_as_double(t, f * plane + i);
        b.append_int(frame, in->info.frame_offset + f);
        b.append_double(mean, sum / static_cast<double>(plane));
    }
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    p.info = in->info;
    b.finish(&p.schema, &p.array);
    return out->emit(out, 0, &p);
}

void counter_destroy(void* self) { delete static_cast<FrameCounter*>(self); }

const spotflow_port_desc counter_in[] = {{"movie", "movie", SPOTFLOW_DATA_TENSOR, 0, "frames"}};
const spotflow_port_desc counter_out[] = {{"frames", "detections", SPOTFLOW_DATA_TABLE, 0, "frame, mean"}};
const spotflow_node_vtable counter_vt = {counter_create, nullptr, counter_process, nothing_to_finish, counter_destroy};
const spotflow_plugin_desc counter_desc = {
    "test.frame_counter", "1.0.0", "One row per frame", "detector", counter_in, 1, 1, counter_out,
    R"({"type":"object","additionalProperties":false,"properties":{
        "sleep_ms":{"type":"integer","minimum":0,"default":0,"description":"delay per chunk"},
        "fail_at_frame":{"type":"integer","default":-1,"description":"fail at this frame"}}})",
    &counter_vt, nullptr};

// ---- test.summary: any tables in (several edges allowed), whole stream;
// at finish writes `file` with "rows sum-of-first-float-column" and emits a
// one-row table.
struct Summary {
    const spotflow_host* host;
    std::string file;
    std::string note;
    bool report_branches = false;
    int64_t rows = 0;
    double sum = 0;
    int64_t last_frame = -1;
    bool ordered = true;
};

void* summary_create(const spotflow_host* h, const char* params) {
    const json p = json::parse(params);
    return new Summary{h, p["file"], p["note"], p["report_branches"]};
}

spotflow_status summary_process(void* self, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter*) {
    auto& s = *static_cast<Summary*>(self);
    spotflow::TableView v(in->schema, in->array);
    const int64_t frame = v.find("frame");
    for (int64_t r = 0; r < v.rows(); ++r) {
        for (int64_t c = 0; c < v.columns(); ++c)
            if (v.column_format(c) == 'g') {
                s.sum += v.get_double(c, r);
                break;
            }
        if (frame >= 0) {
            const int64_t f = v.get_int(frame, r);
            if (f < s.last_frame) s.ordered = false;
            s.last_frame = f;
        }
    }
    s.rows += v.rows();
    return SPOTFLOW_OK;
}

spotflow_status summary_finish(void* self, const spotflow_emitter* out) {
    auto& s = *static_cast<Summary*>(self);
    if (!s.file.empty()) {
        char path[4096];
        if (const auto st = s.host->output_path(s.host, s.file.c_str(), path, sizeof path); st != SPOTFLOW_OK) return st;
        std::ofstream f(path);
        f << s.rows << " " << s.sum << " " << (s.ordered ? "ordered" : "unordered") << (s.note.empty() ? "" : " ")
          << s.note << "\n";
        // The cost of each input edge's own branch, for the executor tests.
        for (int32_t e = 0; s.report_branches && e < s.host->input_count(s.host, 0); ++e)
            f << s.host->input_source(s.host, 0, e) << " " << s.host->branch_seconds(s.host, 0, e) << "\n";
    }
    spotflow::TableBuilder b;
    const auto rows = b.add_column("rows", spotflow::ColumnType::Int64);
    b.append_int(rows, s.rows);
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&p.schema, &p.array);
    return out->emit(out, 0, &p);
}

void summary_destroy(void* self) { delete static_cast<Summary*>(self); }

const spotflow_port_desc summary_in[] = {
    {"table", "table", SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_MULTIPLE | SPOTFLOW_PORT_WHOLE_STREAM, "any rows"}};
const spotflow_port_desc summary_out[] = {{"summary", "metrics", SPOTFLOW_DATA_TABLE, 0, "rows"}};
const spotflow_node_vtable summary_vt = {summary_create, nullptr, summary_process, summary_finish, summary_destroy};
const spotflow_plugin_desc summary_desc = {
    "test.summary", "1.0.0", "Counts rows and sums values", "evaluator", summary_in, 1, 1, summary_out,
    R"({"type":"object","additionalProperties":false,"properties":{
        "file":{"type":"string","default":"","description":"output file; empty for none"},
        "note":{"type":"string","default":"","description":"written after the counts"},
        "report_branches":{"type":"boolean","default":false,"description":"also write each edge's branch_seconds"}}})",
    &summary_vt, nullptr};

const spotflow_plugin_desc* const all[] = {&count_desc, &movie_desc, &counter_desc, &summary_desc};

uint32_t plugin_count() { return sizeof all / sizeof all[0]; }
const spotflow_plugin_desc* plugin_at(uint32_t i) { return i < plugin_count() ? all[i] : nullptr; }

} // namespace

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, plugin_count, plugin_at};

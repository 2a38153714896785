// The common half of every linker node: collect the whole detections stream,
// then emit it once with a track_id column. A linker derives from
// LinkerNode, and its finish calls emit_linked with its own linking rule.
// Every batch passes the runaway guard (frame_guard.hpp) before it is kept:
// a frame with more than max_detections_per_frame detections (0: derived
// from memory, whole_stream_frame_limit) stops the run with one error line,
// so a detector flooding the linker with noise cannot exhaust memory.
#pragma once

#include <cstdint>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "spotflow/node.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "spotflow_tables/frame_guard.hpp"

namespace spotflow::tables {

class LinkerNode {
public:
    // Counts the batch's frames against the guard, then keeps the batch
    // (every column). Throws PluginError naming a frame over the guard's
    // limit, or a batch whose columns differ from the first's.
    spotflow_status process(const spotflow_input&, const spotflow_packet& in, const spotflow_emitter*) {
        guard(in);
        try {
            detections_.append(in.schema, in.array);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        return SPOTFLOW_OK;
    }

protected:
    // host: for the guard's run.json record and warning; id: the linker's
    // plugin id, naming the warning; params_json: the node's params, whose
    // max_detections_per_frame is the guard's limit (absent or 0: derived
    // from memory at the first batch; the linker's schema declares it).
    LinkerNode(const spotflow_host* host, const char* id, const char* params_json)
        : host_(host), id_(id), stated_limit_(stated_frame_limit(params_json)) {}

    // link(frame, x, y) -> one track id per row. Emits the detections in
    // arrival order with track_id added (or replaced) on output 0. An empty
    // stream is linked as no rows; a stream without frame, x or y is an
    // error naming the column.
    template <class Link> spotflow_status emit_linked(const spotflow_emitter* out, Link&& link) {
        std::vector<int64_t> frame;
        std::vector<double> x, y;
        try {
            frame = detections_.ints("frame");
            x = detections_.doubles("x");
            y = detections_.doubles("y");
        } catch (const std::invalid_argument& e) {
            if (detections_.rows() > 0 || !detections_.names().empty())
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        const std::vector<int64_t> ids = link(frame, x, y);
        if (guard_) guard_->report(host_, id_);
        std::vector<int64_t> order(ids.size());
        std::iota(order.begin(), order.end(), 0);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        p.info.total_frames = -1;
        detections_.build(order, {{"track_id", ids}}, &p.schema, &p.array);
        return out->emit(out, 0, &p);
    }

    TableAccumulator detections_;

private:
    void guard(const spotflow_packet& in) {
        if (!guard_) {
            const bool derived = stated_limit_ <= 0;
            guard_ = std::make_unique<FrameGuard>(
                derived ? whole_stream_frame_limit(in.info.total_frames) : stated_limit_, derived);
        }
        std::vector<int64_t> frames;
        try {
            const TableView t(in.schema, in.array);
            const int64_t c = t.find("frame");
            if (c < 0) return; // the missing column is named at finish
            frames.reserve(static_cast<size_t>(t.rows()));
            for (int64_t r = 0; r < t.rows(); ++r) frames.push_back(t.get_int(c, r));
        } catch (const std::invalid_argument&) {
            return; // a malformed batch: append names it
        }
        guard_->add(frames);
    }

    const spotflow_host* host_;
    const char* id_;
    int64_t stated_limit_;
    std::unique_ptr<FrameGuard> guard_;
};

} // namespace spotflow::tables

// The common half of every linker node: collect the whole detections stream,
// then emit it once with a track_id column. A linker derives from
// LinkerNode, and its finish calls emit_linked with its own linking rule.
#pragma once

#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "spotflow/node.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow_tables/accumulator.hpp"

namespace spotflow::tables {

class LinkerNode {
public:
    // Keeps the batch (every column). Throws PluginError naming a batch whose
    // columns differ from the first's.
    spotflow_status process(const spotflow_input&, const spotflow_packet& in, const spotflow_emitter*) {
        try {
            detections_.append(in.schema, in.array);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("detections: ") + e.what());
        }
        return SPOTFLOW_OK;
    }

protected:
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
        std::vector<int64_t> order(ids.size());
        std::iota(order.begin(), order.end(), 0);
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        p.info.total_frames = -1;
        detections_.build(order, {{"track_id", ids}}, &p.schema, &p.array);
        return out->emit(out, 0, &p);
    }

    TableAccumulator detections_;
};

} // namespace spotflow::tables

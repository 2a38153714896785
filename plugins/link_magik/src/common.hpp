// What link.magik and train.magik share outside the network: reading
// detections and truth from whole-stream tables.
#pragma once

#include <string>
#include <vector>

#include "graph.hpp"
#include "spotflow_tables/accumulator.hpp"

namespace magik {

// frame, x, y (required), probability and photons (optional, NaN when
// absent). Throws spotflow::PluginError naming `what` and the column.
Detections read_detections(const spotflow::tables::TableAccumulator& t, const std::string& what);

struct Truth {
    std::vector<int64_t> frame, id;
    std::vector<double> x, y;
};
// frame, x, y, track_id. Throws spotflow::PluginError naming `what`.
Truth read_truth(const spotflow::tables::TableAccumulator& t, const std::string& what);

} // namespace magik

// The library's two plugins and the inference loop they share.
#pragma once

#include <vector>

#include "graph.hpp"
#include "net.hpp"
#include "spotflow/plugin.h"

namespace magik {

extern const spotflow_plugin_desc kLinkDesc;
extern const spotflow_plugin_desc kTrainDesc;

// The link probability of every candidate edge, from windows of `window`
// frames (half overlapping); each edge keeps the probability of the window
// where it sits most centrally. Only one batch of windows is in the network
// at a time, so memory follows the window, not the movie. Returns the
// number of windows, or -1 if the host cancelled the run (host may be null).
int64_t score_edges(const Net& net, const Detections& d, const std::vector<Edge>& edges, int window, int max_gap,
                    const spotflow_host* host, std::vector<float>& probability);

} // namespace magik

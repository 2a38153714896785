// One library, two plugins: link.magik and train.magik share the graph code
// and the network, compiled once.
#include "nodes.hpp"
#include "spotflow/entry.hpp"

SPOTFLOW_EXPORT_PLUGINS(magik::kLinkDesc, magik::kTrainDesc);

// One library, two plugins: link.magik and train.magik share the graph code
// and the network, compiled once.
#include "nodes.hpp"

namespace {
uint32_t count() { return 2; }
const spotflow_plugin_desc* plugin(uint32_t i) {
    return i == 0 ? &magik::kLinkDesc : i == 1 ? &magik::kTrainDesc : nullptr;
}
} // namespace

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, count, plugin};

// The library's two plugins.
#pragma once

#include <vector>

#include "spotflow/plugin.h"

namespace magik {

extern const spotflow_plugin_desc kLinkDesc;
extern const spotflow_plugin_desc kTrainDesc;

} // namespace magik

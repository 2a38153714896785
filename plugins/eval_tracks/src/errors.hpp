// This plugin's error type and ABI guard: the SDK's, by their short names.
#pragma once

#include "spotflow/plugin_error.hpp"

namespace eval_tracks {
using spotflow::guarded;
using spotflow::PluginError;
} // namespace eval_tracks

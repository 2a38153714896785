// spotflow/entry.hpp: for C++ plugins, the library's one exported symbol
// (plugin.h's spotflow_entry) written from its descriptors:
//
//   const spotflow_plugin_desc kReader = {...};
//   const spotflow_plugin_desc kWriter = {...};
//   ...
//   SPOTFLOW_EXPORT_PLUGINS(my_plugin::kReader, my_plugin::kWriter)
//
// at namespace scope, once per library (one spotflow_entry per library),
// outside any unnamed namespace (the symbol must stay visible); the
// descriptors may be in one (name them qualified by the enclosing named
// namespace). They are listed in the order given. Header-only; C++17.
//
// Threading: plugin_count and plugin read constants only, so they are
// thread-safe as plugin.h asks; the descriptors are static and live as long
// as the library.
#pragma once

#include <cstdint>

#include "spotflow/plugin.h"

namespace spotflow {
namespace entry_detail {

// The descriptors Ds..., as plugin.h's count and i-th functions.
template <const spotflow_plugin_desc&... Ds> struct Exported {
    static_assert(sizeof...(Ds) > 0, "a library exports at least one plugin");
    static constexpr const spotflow_plugin_desc* kList[] = {&Ds...};
    static uint32_t count() { return static_cast<uint32_t>(sizeof...(Ds)); }
    static const spotflow_plugin_desc* plugin(uint32_t i) { return i < sizeof...(Ds) ? kList[i] : nullptr; }
};

} // namespace entry_detail
} // namespace spotflow

// Defines spotflow_entry for the descriptors named (see the top of this file).
#define SPOTFLOW_EXPORT_PLUGINS(...)                                                                                 \
    extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {                                        \
        SPOTFLOW_ABI_VERSION_INIT, &::spotflow::entry_detail::Exported<__VA_ARGS__>::count,                          \
        &::spotflow::entry_detail::Exported<__VA_ARGS__>::plugin}

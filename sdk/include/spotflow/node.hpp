// spotflow/node.hpp: for C++ plugins, a class as a node, without the C glue.
// Header-only; needs C++17.
//
// Write the node as a class and let node_vtable<T>() make its
// spotflow_node_vtable:
//
//   class Summary {
//   public:
//       Summary(const spotflow_host* host, const char* params_json);  // throw PluginError on bad params
//       spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter* out);
//       spotflow_status finish(const spotflow_emitter* out);
//   };
//   const spotflow_node_vtable kVtable = spotflow::node_vtable<Summary>();
//
// The members a node does not have stay NULL in the vtable (a source has
// pull and no process), except finish, which the host requires: a class
// without one gets a finish that does nothing and returns SPOTFLOW_OK. Every call runs under
// guarded() (plugin_error.hpp, the one error mapping nodes and losses
// share): an exception becomes a status and one error line naming the
// node's context, so none crosses the ABI. The context is the instance's
// `std::string context() const` if the class has one (a writer naming its
// file), else T::kContext, else "node"; create says "setting up" before
// T::kContext. create returns NULL when the constructor throws; destroy
// deletes the instance. Export the descriptors with entry.hpp's
// SPOTFLOW_EXPORT_PLUGINS.
//
// Threading and ownership are node.h's: the host never calls one instance
// concurrently, create and destroy run on the main thread.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "spotflow/node.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"

namespace spotflow {

namespace node_detail {

template <class T, class = void> struct has_pull : std::false_type {};
template <class T>
struct has_pull<T, std::void_t<decltype(std::declval<T&>().pull(std::declval<const spotflow_emitter*>()))>>
    : std::true_type {};

template <class T, class = void> struct has_process : std::false_type {};
template <class T>
struct has_process<T, std::void_t<decltype(std::declval<T&>().process(std::declval<const spotflow_input&>(),
                                                                       std::declval<const spotflow_packet&>(),
                                                                       std::declval<const spotflow_emitter*>()))>>
    : std::true_type {};

template <class T, class = void> struct has_finish : std::false_type {};
template <class T>
struct has_finish<T, std::void_t<decltype(std::declval<T&>().finish(std::declval<const spotflow_emitter*>()))>>
    : std::true_type {};

template <class T, class = void> struct has_context : std::false_type {};
template <class T> struct has_context<T, std::void_t<decltype(T::kContext)>> : std::true_type {};

template <class T, class = void> struct has_context_member : std::false_type {};
template <class T>
struct has_context_member<T, std::void_t<decltype(std::string(std::declval<const T&>().context()))>>
    : std::true_type {};

template <class T> const char* context() {
    if constexpr (has_context<T>::value) return T::kContext;
    else return "node";
}

// The context of one instance's calls (see the top of this file).
template <class T> std::string context(const T& node) {
    if constexpr (has_context_member<T>::value) return node.context();
    else return context<T>();
}

// The instance with the host it was created with, so every call can report.
template <class T> struct Instance {
    const spotflow_host* host;
    T node;
};

template <class T> void* create(const spotflow_host* host, const char* params_json) {
    Instance<T>* made = nullptr;
    guarded(host, std::string("setting up ") + context<T>(), [&]() -> spotflow_status {
        made = new Instance<T>{host, T(host, params_json)};
        return SPOTFLOW_OK;
    });
    return made;
}

template <class T> spotflow_status pull(void* self, const spotflow_emitter* out) {
    auto& i = *static_cast<Instance<T>*>(self);
    return guarded(i.host, context(i.node), [&] { return i.node.pull(out); });
}

template <class T>
spotflow_status process(void* self, const spotflow_input* in, const spotflow_packet* packet, const spotflow_emitter* out) {
    auto& i = *static_cast<Instance<T>*>(self);
    return guarded(i.host, context(i.node), [&] { return i.node.process(*in, *packet, out); });
}

template <class T> spotflow_status finish([[maybe_unused]] void* self, [[maybe_unused]] const spotflow_emitter* out) {
    if constexpr (has_finish<T>::value) {
        auto& i = *static_cast<Instance<T>*>(self);
        return guarded(i.host, context(i.node), [&] { return i.node.finish(out); });
    } else {
        return SPOTFLOW_OK; // a class without finish: nothing to flush, the instance is not touched
    }
}

template <class T> void destroy(void* self) { delete static_cast<Instance<T>*>(self); }

} // namespace node_detail

// The vtable of node class T (see the top of this file).
template <class T> constexpr spotflow_node_vtable node_vtable() {
    static_assert(node_detail::has_pull<T>::value || node_detail::has_process<T>::value,
                  "a node needs pull (a source) or process");
    spotflow_node_vtable v{};
    v.create = &node_detail::create<T>;
    if constexpr (node_detail::has_pull<T>::value) v.pull = &node_detail::pull<T>;
    if constexpr (node_detail::has_process<T>::value) v.process = &node_detail::process<T>;
    v.finish = &node_detail::finish<T>;
    v.destroy = &node_detail::destroy<T>;
    return v;
}

// A node written as a state and free functions rather than a class (C
// style, or a state several functions share), for node_vtable:
//
//   Tally make_tally(const spotflow_host* host, const char* params_json);  // throw on bad params
//   spotflow_status process(Tally&, const spotflow_input*, const spotflow_packet*, const spotflow_emitter*);
//   spotflow_status finish(Tally&, const spotflow_emitter*);
//   constexpr char kTallying[] = "tallying";   // the error lines' context
//   const spotflow_node_vtable kVtable =
//       spotflow::node_vtable<spotflow::FunctionNode<Tally, make_tally, process, finish, kTallying>>();
//
// FunctionSource is the same for a source (S& and the emitter to pull).
template <class S, auto Make, auto Process, auto Finish, const char* Context> class FunctionNode {
public:
    static constexpr const char* kContext = Context;
    FunctionNode(const spotflow_host* host, const char* params_json) : state_(Make(host, params_json)) {}
    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter* out) {
        return Process(state_, &in, &packet, out);
    }
    spotflow_status finish(const spotflow_emitter* out) { return Finish(state_, out); }

private:
    S state_;
};

template <class S, auto Make, auto Pull, const char* Context> class FunctionSource {
public:
    static constexpr const char* kContext = Context;
    FunctionSource(const spotflow_host* host, const char* params_json) : state_(Make(host, params_json)) {}
    spotflow_status pull(const spotflow_emitter* out) { return Pull(state_, out); }

private:
    S state_;
};

// Where to write output file `name` (see spotflow_host::output_path): the
// temporary path the host commits on success. Throws PluginError naming the
// file and why the host refused it (a name escaping the folder or claimed by
// another node; a folder that is not writable).
inline std::string output_path(const spotflow_host* host, const std::string& name) {
    char buf[4096];
    const spotflow_status s = host->output_path(host, name.c_str(), buf, sizeof buf);
    if (s == SPOTFLOW_ERR_INVALID_ARGUMENT)
        throw PluginError(s, "output file '" + name + "' leaves the output folder or is already written by another node");
    if (s != SPOTFLOW_OK) throw PluginError(s, "output file '" + name + "': the output folder is not writable");
    return buf;
}

// Finishes `table` and emits it on output `port` with stream info `info`;
// returns emit's status (non-zero: the run is stopping, return it).
inline spotflow_status emit_table(const spotflow_emitter* out, int32_t port, TableBuilder& table,
                                  const spotflow_stream_info& info) {
    spotflow_packet packet{};
    packet.kind = SPOTFLOW_DATA_TABLE;
    packet.info = info;
    table.finish(&packet.schema, &packet.array);
    return out->emit(out, port, &packet);
}

// Stream info for a table that is not a movie chunk (total_frames unknown).
inline spotflow_stream_info table_info() {
    spotflow_stream_info info{};
    info.total_frames = -1;
    return info;
}

} // namespace spotflow

// spotflow/plugin_error.hpp: for C++ plugins, an exception type that carries
// a status, and the one guard that turns every exception into a status plus
// one error line at the ABI boundary (no exception may cross it). node.hpp
// and loss.hpp run every call under it, so a node and a loss report the same
// exception the same way. Header-only.

#pragma once

#include <new>
#include <stdexcept>
#include <string>

#include "spotflow/host.h"

namespace spotflow {

// A failure the user can act on: status and one line naming the cause.
class PluginError : public std::runtime_error {
public:
    PluginError(spotflow_status status, const std::string& message) : std::runtime_error(message), status(status) {}
    spotflow_status status;
};

// A failure the host already knows the cause of: a host call (create_loss,
// say) failed and set the error line itself. guarded returns the status and
// reports nothing more, so the host's line stays.
struct AlreadyReported {
    spotflow_status status;
};

// Runs f() (which returns a spotflow_status); reports any exception through
// host->set_error so nothing crosses the C ABI. The one mapping:
//   PluginError            -> its status, its message as it is;
//   AlreadyReported        -> its status, no message (the host has one);
//   std::invalid_argument  -> SPOTFLOW_ERR_INVALID_ARGUMENT (bad input: a
//                             tensor of the wrong shape, a value std::sto*
//                             cannot read);
//   std::bad_alloc         -> SPOTFLOW_ERR_OUT_OF_MEMORY;
//   anything else          -> SPOTFLOW_ERR_INTERNAL.
// Every message but a PluginError's is prefixed "context: " (a node's
// "linking", "setting up reader"); an empty context adds nothing.
// Threading: runs f on the calling thread; safe wherever f and
// host->set_error are.
template <class F> spotflow_status guarded(const spotflow_host* host, const std::string& context, F&& f) {
    const auto report = [&](spotflow_status status, const std::string& message) {
        host->set_error(host, status, message.c_str());
        return status;
    };
    const auto named = [&](const char* what) { return context.empty() ? std::string(what) : context + ": " + what; };
    try {
        return f();
    } catch (const PluginError& e) {
        return report(e.status, e.what());
    } catch (const AlreadyReported& e) {
        return e.status;
    } catch (const std::invalid_argument& e) {
        return report(SPOTFLOW_ERR_INVALID_ARGUMENT, named(e.what()));
    } catch (const std::bad_alloc&) {
        return report(SPOTFLOW_ERR_OUT_OF_MEMORY, context.empty() ? "out of memory" : "out of memory " + context);
    } catch (const std::exception& e) {
        return report(SPOTFLOW_ERR_INTERNAL, named(e.what()));
    } catch (...) {
        return report(SPOTFLOW_ERR_INTERNAL, named("unknown exception"));
    }
}

} // namespace spotflow

// spotflow/plugin_error.hpp: for C++ plugins, an exception type that carries
// a status, and the guard that turns every exception into a status plus one
// error line at the ABI boundary (no exception may cross it). Header-only.

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

// Runs f() (which returns a spotflow_status); reports any exception through
// host->set_error so nothing crosses the C ABI.
template <class F> spotflow_status guarded(const spotflow_host* host, const std::string& context, F&& f) {
    try {
        return f();
    } catch (const PluginError& e) {
        host->set_error(host, e.status, e.what());
        return e.status;
    } catch (const std::bad_alloc&) {
        host->set_error(host, SPOTFLOW_ERR_OUT_OF_MEMORY, ("out of memory " + context).c_str());
        return SPOTFLOW_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        host->set_error(host, SPOTFLOW_ERR_INTERNAL, (context + ": " + e.what()).c_str());
        return SPOTFLOW_ERR_INTERNAL;
    } catch (...) {
        host->set_error(host, SPOTFLOW_ERR_INTERNAL, (context + ": unknown exception").c_str());
        return SPOTFLOW_ERR_INTERNAL;
    }
}

} // namespace spotflow

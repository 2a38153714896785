// spotflow/loss.hpp: for C++ loss plugins, a class as a loss, without the C
// glue (node.hpp's counterpart for spotflow_loss_vtable). Header-only; C++17.
//
//   class Bce {
//   public:
//       Bce(const spotflow_host* host, const char* params_json);   // throw on bad params
//       double compute(const spotflow_loss_io& io);                 // the loss; gradients into io
//       // optional, for learnable parameters (Kendall's log-variances):
//       int32_t parameter_count();
//       void parameter(int32_t i, DLTensor** value, DLTensor** gradient);
//       // optional (ABI 1.1), the named terms of the last compute():
//       int32_t component_count();
//       void component(int32_t i, const char** name, double* value);
//   };
//   const spotflow_loss_vtable kLoss = spotflow::loss_vtable<Bce>();
//   (then a descriptor with kind "loss" and &kLoss, exported with entry.hpp)
//
// Errors: plugin_error.hpp's guard, the one mapping nodes share (a
// PluginError keeps its status, std::invalid_argument from compute -- a
// tensor of the wrong shape, dtype or range -- is
// SPOTFLOW_ERR_INVALID_ARGUMENT, anything else SPOTFLOW_ERR_INTERNAL), with
// the message alone as the one error line; anything the constructor throws
// is SPOTFLOW_ERR_INVALID_ARGUMENT (it has only its params to fail on). A class without the parameter
// members has none: parameter_count is 0 and parameter() an error naming
// the index. Likewise a class without the component members reports none:
// component_count is 0 and component() an error naming the index. Threading is loss.h's: create and destroy on the main thread,
// the rest never concurrently for one instance.
#pragma once

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "spotflow/loss.h"
#include "spotflow/plugin_error.hpp"

namespace spotflow {

namespace loss_detail {

template <class T, class = void> struct has_parameters : std::false_type {};
template <class T>
struct has_parameters<T, std::void_t<decltype(std::declval<T&>().parameter_count()),
                                     decltype(std::declval<T&>().parameter(int32_t{}, std::declval<DLTensor**>(),
                                                                           std::declval<DLTensor**>()))>>
    : std::true_type {};

template <class T, class = void> struct has_components : std::false_type {};
template <class T>
struct has_components<T, std::void_t<decltype(std::declval<T&>().component_count()),
                                     decltype(std::declval<T&>().component(int32_t{}, std::declval<const char**>(),
                                                                           std::declval<double*>()))>>
    : std::true_type {};

template <class T> struct Instance {
    const spotflow_host* host;
    T loss;
};

// Runs f (returning nothing) under plugin_error.hpp's guard, with no
// context: a loss's error line is its message alone.
template <class F> spotflow_status reported(const spotflow_host* host, F&& f) {
    return guarded(host, std::string(), [&] {
        f();
        return SPOTFLOW_OK;
    });
}

// A constructor has only its params to fail on: whatever it throws (a JSON
// error included) is an invalid argument.
template <class T> void* create(const spotflow_host* host, const char* params_json) {
    Instance<T>* made = nullptr;
    reported(host, [&] {
        try {
            made = new Instance<T>{host, T(host, params_json)};
        } catch (const PluginError&) {
            throw;
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            throw std::invalid_argument(e.what());
        }
    });
    return made;
}

template <class T> spotflow_status compute(void* self, const spotflow_loss_io* io, double* loss) {
    auto& i = *static_cast<Instance<T>*>(self);
    return reported(i.host, [&] { *loss = i.loss.compute(*io); });
}

template <class T> int32_t parameter_count(void* self) {
    if constexpr (has_parameters<T>::value) return static_cast<Instance<T>*>(self)->loss.parameter_count();
    else return 0;
}

template <class T> spotflow_status parameter(void* self, int32_t index, DLTensor** value, DLTensor** gradient) {
    auto& i = *static_cast<Instance<T>*>(self);
    return reported(i.host, [&] {
        if constexpr (has_parameters<T>::value) i.loss.parameter(index, value, gradient);
        else throw std::invalid_argument("this loss has no learnable parameters (asked for " + std::to_string(index) + ")");
    });
}

template <class T> int32_t component_count(void* self) {
    if constexpr (has_components<T>::value) return static_cast<Instance<T>*>(self)->loss.component_count();
    else return 0;
}

template <class T> spotflow_status component(void* self, int32_t index, const char** name, double* value) {
    auto& i = *static_cast<Instance<T>*>(self);
    return reported(i.host, [&] {
        if constexpr (has_components<T>::value) {
            if (index < 0 || index >= i.loss.component_count())
                throw std::invalid_argument("loss component " + std::to_string(index) + " does not exist");
            i.loss.component(index, name, value);
        } else {
            throw std::invalid_argument("this loss reports no components (asked for " + std::to_string(index) + ")");
        }
    });
}

template <class T> void destroy(void* self) { delete static_cast<Instance<T>*>(self); }

} // namespace loss_detail

// The vtable of loss class T (see the top of this file).
template <class T> constexpr spotflow_loss_vtable loss_vtable() {
    return {&loss_detail::create<T>, &loss_detail::compute<T>, &loss_detail::parameter_count<T>,
            &loss_detail::parameter<T>, &loss_detail::destroy<T>, &loss_detail::component_count<T>,
            &loss_detail::component<T>};
}

} // namespace spotflow

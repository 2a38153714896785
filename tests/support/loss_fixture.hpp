// tests/support/loss_fixture.hpp: a gtest fixture holding one loss plugin
// instance, created from its descriptor's loss vtable with a fake host as a
// trainer would get it; owned DLPack tensors for its inputs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plugin_harness.hpp"

namespace spotflow::testing {

using Tensor = std::unique_ptr<DLManagedTensor, void (*)(DLManagedTensor*)>;

template <class T = float> Tensor tensor(std::vector<int64_t> shape, std::vector<T> data) {
    return Tensor(spotflow::make_tensor<T>(std::move(shape), std::move(data)), spotflow::release_tensor);
}
inline Tensor zeros(std::vector<int64_t> shape) {
    return Tensor(spotflow::make_tensor<float>(std::move(shape)), spotflow::release_tensor);
}

class LossFixture : public ::testing::Test {
protected:
    // The loss `id` of the plugin library at `plugin_path`; SetUp creates it with `params`.
    LossFixture(const char* plugin_path, const char* id, std::string params)
        : lib(plugin_path), desc(lib.plugin(id)), vt(desc.loss), params_(std::move(params)) {}
    void SetUp() override { make(params_); }
    void TearDown() override {
        if (self) vt->destroy(self);
    }
    // (Re)creates the instance; a refusal fails the test with the host's error.
    void make(const std::string& params) {
        if (self) vt->destroy(self);
        self = vt->create(host.get(), params.c_str());
        ASSERT_NE(self, nullptr) << host.error;
    }

    PluginLibrary lib;
    const spotflow_plugin_desc& desc;
    const spotflow_loss_vtable* vt;
    FakeHost host;
    void* self = nullptr;

private:
    std::string params_;
};

} // namespace spotflow::testing

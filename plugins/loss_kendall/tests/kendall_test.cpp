// loss.kendall through its ABI, with a fake host whose create_loss hands out
// loss.bce and loss.decode_gmm from their libraries: known values, every
// gradient (predictions and each s_i) against central finite differences,
// the components, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loss_host.hpp"
#include "plugin_harness.hpp"

namespace {

using namespace spotflow::testing;
using Tensor = std::unique_ptr<DLManagedTensor, void (*)(DLManagedTensor*)>;

Tensor tensor(std::vector<int64_t> shape, std::vector<float> data) {
    return Tensor(spotflow::make_tensor<float>(std::move(shape), std::move(data)), spotflow::release_tensor);
}
Tensor zeros(std::vector<int64_t> shape) { return Tensor(spotflow::make_tensor<float>(std::move(shape)), spotflow::release_tensor); }
float* data(const Tensor& t) { return static_cast<float*>(t->dl_tensor.data); }
int64_t size(const Tensor& t) { return spotflow::element_count(t->dl_tensor); }

PluginLibrary& bce_lib() {
    static PluginLibrary lib(BCE_PLUGIN_PATH);
    return lib;
}
PluginLibrary& gmm_lib() {
    static PluginLibrary lib(GMM_PLUGIN_PATH);
    return lib;
}

// The fake host plus create_loss over the two sub-loss libraries (as the
// real host: an unknown id is refused with a reason through set_error).
struct KendallHost : LossHost {
    KendallHost() : LossHost({BCE_PLUGIN_PATH, GMM_PLUGIN_PATH}) {}
};

const char* const kBce = R"({"pos_weight": 2.0, "reduction": "mean"})";

// Random valid DECODE outputs, 1 x 8 x h x w (as loss.decode_gmm's test).
std::vector<float> gmm_outputs(int64_t h, int64_t w, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<float> v(static_cast<size_t>(8 * h * w));
    for (int64_t c = 0; c < 8; ++c)
        for (int64_t j = 0; j < h * w; ++j) {
            float& x = v[static_cast<size_t>(c * h * w + j)];
            switch (c) {
            case 0: x = 0.05f + 0.9f * u(rng); break;
            case 1: x = 0.5f + 2 * u(rng); break;
            case 2: case 3: x = 2 * u(rng) - 1; break;
            case 7: x = 0.5f + u(rng); break;
            default: x = 0.3f + 1.5f * u(rng); break;
            }
        }
    return v;
}

class Kendall : public ::testing::Test {
protected:
    void TearDown() override { drop(); }
    void drop() {
        if (self) vt->destroy(self);
        self = nullptr;
    }
    void* create(const nlohmann::json& params) {
        drop();
        host.fake.error.clear();
        self = vt->create(&host.table, params.dump().c_str());
        return self;
    }
    void make(const nlohmann::json& params) { ASSERT_NE(create(params), nullptr) << host.fake.error; }
    float& s(int32_t i) {
        DLTensor *v = nullptr, *g = nullptr;
        EXPECT_EQ(vt->parameter(self, i, &v, &g), SPOTFLOW_OK);
        return *static_cast<float*>(v->data);
    }
    float& s_grad(int32_t i) {
        DLTensor *v = nullptr, *g = nullptr;
        EXPECT_EQ(vt->parameter(self, i, &v, &g), SPOTFLOW_OK);
        return *static_cast<float*>(g->data);
    }
    spotflow_status run(std::vector<const Tensor*> preds, std::vector<const Tensor*> targets, double* loss,
                        std::vector<Tensor*> grads = {}, const Tensor* mask = nullptr) {
        std::vector<const DLTensor*> p, t;
        std::vector<DLTensor*> g;
        for (auto* x : preds) p.push_back(&(*x)->dl_tensor);
        for (auto* x : targets) t.push_back(&(*x)->dl_tensor);
        for (auto* x : grads) g.push_back(&(*x)->dl_tensor);
        const spotflow_loss_io io{p.data(), t.data(), static_cast<int32_t>(p.size()), static_cast<int32_t>(t.size()),
                                  mask ? &(*mask)->dl_tensor : nullptr, grads.empty() ? nullptr : g.data()};
        return vt->compute(self, &io, loss);
    }
    std::vector<std::pair<std::string, double>> components() {
        std::vector<std::pair<std::string, double>> out;
        for (int32_t i = 0; i < vt->component_count(self); ++i) {
            const char* name = nullptr;
            double v = 0;
            EXPECT_EQ(vt->component(self, i, &name, &v), SPOTFLOW_OK);
            out.emplace_back(name, v);
        }
        return out;
    }
    double component(const std::string& name) {
        for (const auto& [n, v] : components())
            if (n == name) return v;
        ADD_FAILURE() << "no component " << name;
        return NAN;
    }

    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("loss.kendall");
    const spotflow_loss_vtable* vt = desc.loss;
    KendallHost host;
    void* self = nullptr;
};

nlohmann::json two_terms(double s1 = 0.0, double s2 = 0.0) {
    return {{"terms",
             {{{"name", "localisation"}, {"loss", "loss.decode_gmm"}, {"params", nlohmann::json::object()},
               {"predictions", 1}, {"targets", 2}, {"initial_log_variance", s1}},
              {{"name", "calcium"}, {"loss", "loss.bce"}, {"params", nlohmann::json::parse(kBce)},
               {"predictions", 1}, {"targets", 1}, {"use_mask", true}, {"initial_log_variance", s2}}}}};
}

TEST_F(Kendall, DescriptorIsALossWithOneParameterPerTerm) {
    make(two_terms());
    EXPECT_STREQ(desc.kind, "loss");
    EXPECT_EQ(desc.node, nullptr);
    EXPECT_EQ(vt->parameter_count(self), 2);
    DLTensor *v = nullptr, *g = nullptr;
    ASSERT_EQ(vt->parameter(self, 1, &v, &g), SPOTFLOW_OK);
    EXPECT_EQ(v->ndim, 1);
    EXPECT_EQ(v->shape[0], 1);
    EXPECT_NE(vt->parameter(self, 2, &v, &g), SPOTFLOW_OK);
}

// One BCE term, z = 0, y = 1, pos_weight 2: L_1 = 2 log 2. With s = log 2 the
// weight is 1/2: L = log 2 + log 2; dL/ds = 1 - exp(-s) L_1 = 1 - log 2;
// dL/dz = exp(-s) * 2 * (-s(0)) = -1/2.
TEST_F(Kendall, OneTermKnownValueAndGradients) {
    const double ln2 = std::log(2.0);
    make({{"terms", {{{"name", "calcium"}, {"loss", "loss.bce"}, {"params", nlohmann::json::parse(kBce)},
                      {"initial_log_variance", ln2}}}}});
    const auto z = tensor({1}, {0.0f});
    const auto y = tensor({1}, {1.0f});
    auto g = zeros({1});
    double loss = 0;
    ASSERT_EQ(run({&z}, {&y}, &loss, {&g}), SPOTFLOW_OK) << host.fake.error;
    EXPECT_NEAR(loss, 2 * ln2, 1e-6);
    EXPECT_NEAR(data(g)[0], -0.5, 1e-6);
    EXPECT_NEAR(s_grad(0), 1 - ln2, 1e-6);
    EXPECT_NEAR(component("raw.calcium"), 2 * ln2, 1e-6);
    EXPECT_NEAR(component("weighted.calcium"), ln2, 1e-6);
    EXPECT_NEAR(component("log_variance.calcium"), ln2, 1e-6);
    EXPECT_NEAR(component("raw.calcium.positive"), 2 * ln2, 1e-6); // loss.bce's own component
    // The gradient accumulates (loss.h): a second call adds the same again.
    ASSERT_EQ(run({&z}, {&y}, &loss, {&g}), SPOTFLOW_OK);
    EXPECT_NEAR(s_grad(0), 2 * (1 - ln2), 1e-6);
    // Without gradients asked for, s's accumulator is left alone.
    ASSERT_EQ(run({&z}, {&y}, &loss), SPOTFLOW_OK);
    EXPECT_NEAR(s_grad(0), 2 * (1 - ln2), 1e-6);
}

struct TwoTermInputs {
    explicit TwoTermInputs(std::mt19937& rng)
        : loc(tensor({1, 8, 3, 4}, gmm_outputs(3, 4, rng))),
          emitters(tensor({1, 2, 4}, {1.2f, 0.7f, 1.5f, 1.0f, 2.6f, 1.9f, 0.9f, 1.0f})),
          background(tensor({1, 1, 3, 4}, std::vector<float>(12, 1.0f))), logits(zeros({2, 5})), labels(zeros({2, 5})),
          mask(tensor({2, 5}, {1, 1, 1, 0, 1, 1, 0, 1, 1, 1})) {
        std::normal_distribution<float> n(0, 1.5f);
        for (int64_t i = 0; i < 10; ++i) {
            data(logits)[i] = n(rng);
            data(labels)[i] = i % 3 == 0 ? 1.0f : 0.0f;
        }
    }
    Tensor loc, emitters, background, logits, labels, mask;
};

// The loss equals the weighted sum of the sub-losses computed on their own,
// and the components add up to it.
TEST_F(Kendall, TwoTermsEqualTheWeightedSubLossesAndComponentsAddUp) {
    std::mt19937 rng(3);
    TwoTermInputs in(rng);
    const double s1 = 0.7, s2 = -0.4;
    make(two_terms(s1, s2));
    double total = 0;
    ASSERT_EQ(run({&in.loc, &in.logits}, {&in.emitters, &in.background, &in.labels}, &total, {}, &in.mask), SPOTFLOW_OK)
        << host.fake.error;

    // The sub-losses directly.
    const auto& gd = gmm_lib().plugin("loss.decode_gmm");
    const auto& bd = bce_lib().plugin("loss.bce");
    void* gmm = gd.loss->create(host.fake.get(), "{}");
    void* bce = bd.loss->create(host.fake.get(), kBce);
    const DLTensor* gp[] = {&in.loc->dl_tensor};
    const DLTensor* gt[] = {&in.emitters->dl_tensor, &in.background->dl_tensor};
    const DLTensor* bp[] = {&in.logits->dl_tensor};
    const DLTensor* bt[] = {&in.labels->dl_tensor};
    const spotflow_loss_io gio{gp, gt, 1, 2, nullptr, nullptr};
    const spotflow_loss_io bio{bp, bt, 1, 1, &in.mask->dl_tensor, nullptr};
    double l1 = 0, l2 = 0;
    ASSERT_EQ(gd.loss->compute(gmm, &gio, &l1), SPOTFLOW_OK);
    ASSERT_EQ(bd.loss->compute(bce, &bio, &l2), SPOTFLOW_OK);
    gd.loss->destroy(gmm);
    bd.loss->destroy(bce);

    const double expect = std::exp(-s1) * l1 + s1 + std::exp(-s2) * l2 + s2;
    EXPECT_NEAR(total, expect, 1e-5 * std::abs(expect));
    EXPECT_NEAR(component("raw.localisation"), l1, 1e-9 * std::abs(l1));
    EXPECT_NEAR(component("raw.calcium"), l2, 1e-9 * std::abs(l2));
    EXPECT_NEAR(component("weighted.localisation"), std::exp(-s1) * l1, 1e-5);
    EXPECT_NEAR(component("log_variance.localisation"), s1, 1e-6);
    EXPECT_NEAR(component("log_variance.calcium"), s2, 1e-6);
    double sum = 0;
    for (const auto& [n, v] : components())
        if (n.rfind("weighted.", 0) == 0 || n.rfind("log_variance.", 0) == 0) sum += v;
    EXPECT_NEAR(sum, total, 1e-9 * std::abs(total));
    // decode_gmm's own terms are there too, raw.
    EXPECT_FALSE(std::isnan(component("raw.localisation.count")));
}

// Every gradient element of both predictions, and dL/ds_i, against central
// finite differences of the loss.
TEST_F(Kendall, EveryGradientMatchesFiniteDifferences) {
    std::mt19937 rng(11);
    TwoTermInputs in(rng);
    make(two_terms(0.3, -0.6));
    const std::vector<const Tensor*> targets = {&in.emitters, &in.background, &in.labels};
    auto g_loc = zeros({1, 8, 3, 4});
    auto g_ca = zeros({2, 5});
    double loss = 0;
    ASSERT_EQ(run({&in.loc, &in.logits}, targets, &loss, {&g_loc, &g_ca}, &in.mask), SPOTFLOW_OK) << host.fake.error;
    const double ds0 = s_grad(0), ds1 = s_grad(1);
    const auto value = [&] {
        double l = 0;
        EXPECT_EQ(run({&in.loc, &in.logits}, targets, &l, {}, &in.mask), SPOTFLOW_OK) << host.fake.error;
        return l;
    };
    const auto check = [&](const Tensor& x, const Tensor& g, const char* what) {
        for (int64_t i = 0; i < size(x); ++i) {
            float& xi = data(x)[i];
            const float x0 = xi;
            const float h = 1e-3f * std::max(1.0f, std::abs(x0));
            xi = x0 + h;
            const double up = value();
            xi = x0 - h;
            const double down = value();
            xi = x0;
            const double fd = (up - down) / (2.0 * h);
            EXPECT_NEAR(data(g)[i], fd, 2e-3 * std::max(1.0, std::abs(fd))) << what << " element " << i;
        }
    };
    check(in.loc, g_loc, "localisation prediction");
    check(in.logits, g_ca, "calcium logits");
    // Masked-out calcium elements get no gradient.
    EXPECT_EQ(data(g_ca)[3], 0.0f);
    for (int32_t i = 0; i < 2; ++i) {
        float& si = s(i);
        const float s0 = si;
        const float h = 1e-3f;
        si = s0 + h;
        const double up = value();
        si = s0 - h;
        const double down = value();
        si = s0;
        EXPECT_NEAR(i == 0 ? ds0 : ds1, (up - down) / (2.0 * h), 1e-3) << "d/ds_" << i;
    }
}

// Large s stays finite: the weight exp(-s) goes to 0, the loss to s.
TEST_F(Kendall, ExtremeLogVarianceStaysFinite) {
    make({{"terms", {{{"name", "calcium"}, {"loss", "loss.bce"}, {"params", nlohmann::json::parse(kBce)},
                      {"initial_log_variance", 30.0}}}}});
    const auto z = tensor({2}, {50.0f, -50.0f});
    const auto y = tensor({2}, {0.0f, 1.0f});
    double loss = 0;
    ASSERT_EQ(run({&z}, {&y}, &loss), SPOTFLOW_OK);
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_NEAR(loss, 30.0, 1e-3);
}

TEST_F(Kendall, BadParamsFailNamingTheCause) {
    EXPECT_EQ(create({{"terms", nlohmann::json::array()}}), nullptr);
    EXPECT_NE(host.fake.error.find("terms"), std::string::npos) << host.fake.error;

    EXPECT_EQ(create({{"terms", {{{"name", "a"}, {"loss", "loss.nothing"}}}}}), nullptr);
    EXPECT_NE(host.fake.error.find("unknown loss plugin 'loss.nothing'"), std::string::npos) << host.fake.error;

    EXPECT_EQ(create({{"terms", {{{"name", "a"}, {"loss", "loss.bce"}, {"params", nlohmann::json::parse(kBce)}},
                                 {{"name", "a"}, {"loss", "loss.bce"}, {"params", nlohmann::json::parse(kBce)}}}}}),
              nullptr);
    EXPECT_NE(host.fake.error.find("terms[1].name 'a' is used twice"), std::string::npos) << host.fake.error;

    EXPECT_EQ(create({{"terms", {{{"name", "a"}, {"loss", "loss.kendall"}}}}}), nullptr);
    EXPECT_NE(host.fake.error.find("cannot weight itself"), std::string::npos) << host.fake.error;

    // The sub-loss's own params error is kept, not overwritten.
    EXPECT_EQ(create({{"terms", {{{"name", "a"}, {"loss", "loss.bce"}, {"params", {{"pos_weight", -1}, {"reduction", "mean"}}}}}}}),
              nullptr);
    EXPECT_NE(host.fake.error.find("pos_weight must be > 0"), std::string::npos) << host.fake.error;
}

TEST_F(Kendall, BadTensorsFailWithTheSubLossesLine) {
    make(two_terms());
    std::mt19937 rng(1);
    TwoTermInputs in(rng);
    double loss = 0;
    // One tensor short of the terms' counts.
    EXPECT_EQ(run({&in.loc}, {&in.emitters, &in.background, &in.labels}, &loss), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.fake.error.find("expected 2 prediction and 3 target tensors"), std::string::npos) << host.fake.error;
    // Calcium labels of the wrong shape: loss.bce's line stands.
    const auto wrong = zeros({3, 5});
    EXPECT_EQ(run({&in.loc, &in.logits}, {&in.emitters, &in.background, &wrong}, &loss, {}, &in.mask),
              SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(host.fake.error.find("targets[0] has shape [3, 5]"), std::string::npos) << host.fake.error;
}

} // namespace

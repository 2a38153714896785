// sim.particles through its ABI: shapes, masks against the particle table,
// the labelled fraction, determinism, the signal, bad params.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "plugin_harness.hpp"

namespace {

using namespace spotflow::testing;

struct Data {
    std::vector<float> images;
    std::vector<int8_t> labels, truth;
    std::vector<double> x, y;
    std::vector<int64_t> frame, labelled;
};

Data run(const std::string& params) {
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner node(lib.plugin("sim.particles"), host, params);
    EXPECT_TRUE(node.created()) << host.error;
    Data r;
    if (!node.created()) return r;
    EXPECT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.emitted.size(), 4u);
    for (const auto& p : node.emitted) {
        if (p->port == 0) {
            const float* d = static_cast<const float*>(p->p.tensor->dl_tensor.data);
            r.images.assign(d, d + spotflow::element_count(p->p.tensor->dl_tensor));
        } else if (p->port == 1 || p->port == 2) {
            const int8_t* d = static_cast<const int8_t*>(p->p.tensor->dl_tensor.data);
            (p->port == 1 ? r.labels : r.truth).assign(d, d + spotflow::element_count(p->p.tensor->dl_tensor));
        } else {
            const TableView t = p->table();
            for (int64_t i = 0; i < t.rows(); ++i) {
                r.frame.push_back(t.get_int(t.require("frame"), i));
                r.x.push_back(t.get_double(t.require("x"), i));
                r.y.push_back(t.get_double(t.require("y"), i));
                r.labelled.push_back(t.get_int(t.require("labelled"), i));
            }
        }
    }
    return r;
}

TEST(SimParticles, MasksFollowTheParticlesAndHalfAreLabelled) {
    const Data r = run(R"({"num_images": 40, "width": 48, "height": 32, "radius_px": 4, "seed": 3})");
    ASSERT_EQ(r.images.size(), 40u * 48 * 32);
    ASSERT_EQ(r.truth.size(), r.images.size());
    int64_t lab = 0;
    for (size_t k = 0; k < r.x.size(); ++k) {
        const size_t at = static_cast<size_t>(r.frame[k] * 48 * 32 + std::lround(r.y[k]) * 48 + std::lround(r.x[k]));
        EXPECT_EQ(r.truth[at], 1);
        EXPECT_EQ(r.labels[at], r.labelled[k] ? 1 : 0);
        lab += r.labelled[k];
    }
    // 4..10 particles per image; each labelled with probability 1/2.
    EXPECT_GE(r.x.size(), 40u * 4);
    const double frac = static_cast<double>(lab) / static_cast<double>(r.x.size());
    EXPECT_NEAR(frac, 0.5, 0.1);
    // Labels are a subset of the truth.
    for (size_t i = 0; i < r.labels.size(); ++i)
        if (r.labels[i]) {
            EXPECT_EQ(r.truth[i], 1);
        }
    // Particles are darker: mean inside the disks below the mean outside by about the contrast.
    double in = 0, out = 0;
    int64_t ni = 0, no = 0;
    for (size_t i = 0; i < r.images.size(); ++i) (r.truth[i] ? (in += r.images[i], ++ni) : (out += r.images[i], ++no));
    EXPECT_LT(in / ni - out / no, -0.3);
}

TEST(SimParticles, SameSeedSameData) {
    const std::string p = R"({"num_images": 3, "width": 32, "height": 32, "seed": 9})";
    const Data a = run(p), b = run(p), c = run(R"({"num_images": 3, "width": 32, "height": 32, "seed": 10})");
    EXPECT_EQ(a.images, b.images);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_NE(a.images, c.images);
}

TEST(SimParticles, BadParamsNamed) {
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    NodeRunner n1(lib.plugin("sim.particles"), host, R"({"labelled_fraction": 1.5})");
    EXPECT_FALSE(n1.created());
    EXPECT_NE(host.error.find("labelled_fraction"), std::string::npos) << host.error;
    NodeRunner n2(lib.plugin("sim.particles"), host, R"({"width": 16, "height": 16, "radius_px": 8})");
    EXPECT_FALSE(n2.created());
    EXPECT_NE(host.error.find("leaves no room"), std::string::npos) << host.error;
}

} // namespace

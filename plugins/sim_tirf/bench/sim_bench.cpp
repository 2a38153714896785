// Times sim.dataset on seed 000's dataset (200 samples of 100 frames of
// 256 x 256, 20 tracks, 2000 photons) and sim.tirf's frame rate, through the
// test harness (2 threads).
//   sim_tirf_bench OUT_DIR [num_samples]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "../../../tests/support/plugin_harness.hpp"

using spotflow::testing::FakeHost;
using spotflow::testing::NodeRunner;
using spotflow::testing::PluginLibrary;

namespace {

nlohmann::json defaults(const spotflow_plugin_desc& d) {
    nlohmann::json p = nlohmann::json::object();
    const auto schema = nlohmann::json::parse(d.params_schema);
    for (const auto& [name, prop] : schema.at("properties").items()) p[name] = prop.at("default");
    return p;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s OUT_DIR [num_samples]\n", argv[0]);
        return 2;
    }
    const std::filesystem::path out = argv[1];
    const int64_t samples = argc > 2 ? std::stoll(argv[2]) : 200;
    PluginLibrary lib(PLUGIN_PATH);

    for (const char* camera : {"scmos", "emccd"}) {
        nlohmann::json p = defaults(lib.plugin("sim.tirf"));
        p["seed"] = 1;
        p["camera"] = camera;
        FakeHost host;
        const auto t0 = std::chrono::steady_clock::now();
        int64_t frames = 0;
        for (int rep = 0; rep < 5; ++rep) {
            NodeRunner run(lib.plugin("sim.tirf"), host, p.dump());
            if (!run.created() || run.pull_all() != SPOTFLOW_OK) {
                std::fprintf(stderr, "sim.tirf: %s\n", host.error.c_str());
                return 1;
            }
            frames += 100;
        }
        const double s = seconds_since(t0);
        std::printf("sim.tirf %s: %lld frames of 256x256 in %.2f s: %.0f frames/s\n", camera,
                    static_cast<long long>(frames), s, frames / s);
    }

    for (const bool calcium : {false, true}) {
        nlohmann::json p = defaults(lib.plugin("sim.dataset"));
        p["num_samples"] = samples;
        p["seed"] = 1;
        p["calcium"] = calcium;
        const auto dir = out / (calcium ? "with_calcium" : "plain");
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        FakeHost host(dir);
        const auto t0 = std::chrono::steady_clock::now();
        NodeRunner node(lib.plugin("sim.dataset"), host, p.dump());
        if (!node.created() || node.pull_all() != SPOTFLOW_OK || node.finish() != SPOTFLOW_OK) {
            std::fprintf(stderr, "sim.dataset: %s\n", host.error.c_str());
            return 1;
        }
        std::printf("sim.dataset%s: %lld samples x 100 frames of 256x256 in %.2f s\n",
                    calcium ? " (with calcium)" : "", static_cast<long long>(samples), seconds_since(t0));
    }
    return 0;
}

// sim.dataset: writes num_samples simulated movies in seed 000's layout,
// samples in parallel. Each sample is sim.tirf's movie for the sample's own
// seed, so any one can be regenerated alone.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "dataset.hpp"
#include "nodes.hpp"
#include "spotflow_sim/simulator.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "tables.hpp"
#include "tiffio/movie_writer.hpp"

namespace sim {
namespace {

using spotflow::PluginError;

constexpr const char* kDatasetProperties = R"(
    "num_samples": {"type": "integer", "minimum": 1, "default": 200,
      "description": "Samples (movies) in the dataset: folders sample_000, sample_001, ..."},
    "only_sample": {"type": "integer", "minimum": -1, "default": -1,
      "description": "Write only this sample of the num_samples-sample dataset (same name, same seed, same files); -1: all."},)";

struct SampleFiles {
    int64_t index = 0;
    std::string name;
    std::string movie, truth, metadata, calcium, events; // paths from the host
};

std::string claim(const spotflow_host* host, const std::string& name) { return spotflow::output_path(host, name); }

// The host makes the folders of the paths it hands out; a test host may not.
void make_parent(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    if (ec) throw PluginError(SPOTFLOW_ERR_IO, fmt::format("cannot create the folder of '{}': {}", path, ec.message()));
}

void write_text(const std::string& path, const std::string& text) {
    make_parent(path);
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
    if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size() || std::fclose(f.release()) != 0)
        throw PluginError(SPOTFLOW_ERR_IO, fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
}

struct Dataset {
    static constexpr const char* kContext = "sim.dataset";
    Dataset(const spotflow_host* host, const char* params_json);
    Dataset(const Dataset&) = delete; // atomics: made in place
    Dataset& operator=(const Dataset&) = delete;
    spotflow_status pull(const spotflow_emitter* out);

    const spotflow_host* host = nullptr;
    SimParams p;
    uint64_t seed = 0;
    int64_t num_samples = 0;
    std::vector<SampleFiles> samples;
    std::unique_ptr<tbb::task_arena> arena;
    std::atomic<int64_t> written{0};
    std::atomic<bool> stop{false};

    nlohmann::json metadata(const SampleFiles& f, const SimParams& sp, int64_t initial_tracks) const {
        nlohmann::json files = {{"movie", "movie.tif"}, {"ground_truth_tracks", "ground_truth_tracks.csv"}};
        if (sp.calcium.enabled) {
            files["calcium"] = "calcium.tif";
            files["calcium_events"] = "calcium_events.csv";
        }
        nlohmann::json m = {{"generator", "sim.dataset"},
                            {"generator_version", kVersion},
                            {"sample", f.name},
                            {"sample_index", f.index},
                            {"num_samples", num_samples},
                            {"dataset_seed", seed},
                            {"seed", sp.seed},
                            {"effective_psf_sigma_px", sp.sigma_px()},
                            {"initial_tracks", initial_tracks},
                            {"files", files},
                            {"params", to_json(sp)}};
        if (sp.calcium.enabled) m["effective_calcium_sigma_px"] = sp.calcium_sigma_px();
        return m;
    }

    void check_running() const {
        if (stop.load() || host->is_cancelled(host)) throw PluginError(SPOTFLOW_ERR_CANCELLED, "cancelled");
    }

    void write_sample(const SampleFiles& f) {
        SimParams sp = p;
        sp.seed = static_cast<int64_t>(sample_seed(seed, f.index));
        MovieSimulator sim(sp, static_cast<uint64_t>(sp.seed));

        tiffio::MovieFormat format;
        format.height = format.width = sp.image_size;
        format.pixel_size_nm = sp.pixel_size_nm;
        format.frame_interval_s = sp.frame_interval_s;
        format.software = "spotflow sim.dataset";
        make_parent(f.movie);
        tiffio::MovieWriter movie(host, f.movie, format, sp.num_frames, false);
        std::unique_ptr<tiffio::MovieWriter> calcium;
        if (sp.calcium.enabled) calcium = std::make_unique<tiffio::MovieWriter>(host, f.calcium, format, sp.num_frames, false);

        std::string truth = truth_csv_header();
        while (!sim.done()) {
            check_running();
            const Chunk c = sim.next_chunk();
            movie.write_frames(reinterpret_cast<const unsigned char*>(c.movie.data()), c.frames);
            if (calcium) calcium->write_frames(reinterpret_cast<const unsigned char*>(c.calcium.data()), c.frames);
            append_truth_csv(truth, c.truth);
        }
        movie.close();
        if (calcium) calcium->close();
        write_text(f.truth, truth);
        if (sp.calcium.enabled) write_text(f.events, events_csv(sim.events()));
        write_text(f.metadata, metadata(f, sp, sim.initial_tracks()).dump(2) + "\n");
        host->progress(host, ++written, static_cast<int64_t>(samples.size()));
    }
};

Dataset::Dataset(const spotflow_host* host_, const char* params_json) : host(host_) {
    nlohmann::json j;
    p = read_params(params_json, &j);
    const auto count = [&](const char* name) {
        const auto it = j.find(name);
        if (it == j.end() || !it->is_number_integer())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("param '{}' must be an integer", name));
        return it->get<int64_t>();
    };
    num_samples = count("num_samples");
    if (num_samples < 1)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          fmt::format("param 'num_samples' must be >= 1, got {}", num_samples));
    const int64_t only = count("only_sample");
    if (only < -1 || only >= num_samples)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          fmt::format("param 'only_sample' must be -1 or a sample index below num_samples ({}), got {}",
                                      num_samples, only));
    seed = effective_seed(host, p.seed);
    for (int64_t k = only < 0 ? 0 : only; k < (only < 0 ? num_samples : only + 1); ++k) {
        SampleFiles f;
        f.index = k;
        f.name = sample_name(k, num_samples);
        f.movie = claim(host, f.name + "/movie.tif");
        f.truth = claim(host, f.name + "/ground_truth_tracks.csv");
        f.metadata = claim(host, f.name + "/metadata.json");
        if (p.calcium.enabled) {
            f.calcium = claim(host, f.name + "/calcium.tif");
            f.events = claim(host, f.name + "/calcium_events.csv");
        }
        samples.push_back(std::move(f));
    }
    arena = std::make_unique<tbb::task_arena>(std::max(1, host->threads(host)));
}

// The whole dataset in one pull: nothing flows downstream, so there is no
// backpressure to respect, and samples run in parallel.
spotflow_status Dataset::pull(const spotflow_emitter*) {
    Dataset& d = *this;
    d.arena->execute([&] {
        tbb::parallel_for(size_t{0}, d.samples.size(), [&](size_t i) {
            try {
                d.write_sample(d.samples[i]);
            } catch (...) {
                d.stop = true; // the other samples stop at their next chunk
                throw;
            }
        });
    });
    return SPOTFLOW_DONE;
}

const spotflow_node_vtable kVtable = spotflow::node_vtable<Dataset>();
const std::string kSchema = params_schema(kDatasetProperties);

} // namespace

const spotflow_plugin_desc kDatasetDesc = {
    "sim.dataset", kVersion,
    "Writes a dataset of simulated TIRF movies with ground truth (sample_000/movie.tif, ground_truth_tracks.csv, ...)",
    "source", nullptr, 0, 0, nullptr, kSchema.c_str(), &kVtable, nullptr};

} // namespace sim

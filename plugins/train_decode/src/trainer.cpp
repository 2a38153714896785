// train.decode: trains detect.decode's network on simulated data, the
// simulator (libs/sim) making a fresh batch of 3-frame windows every step in
// the camera and PSF model of the target data, the loss from a loss plugin
// (loss.decode_gmm) through libs/nn's loss bridge, the steps, schedule,
// clipping, validation, keep-best and metrics log from libs/nn's training
// loop. Writes best_model.sfw, final_model.sfw, metrics.jsonl and
// model_card.json.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/version.h>

#include "spotflow_decode/match.hpp"
#include "spotflow_decode/net.hpp"
#include "spotflow_decode/normalise.hpp"
#include "spotflow_sim/params.hpp"
#include "spotflow_decode/postprocess.hpp"
#include "spotflow_sim/rng.hpp"
#include "spotflow_sim/simulator.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_nn/loss_bridge.hpp"
#include "spotflow_nn/training.hpp"
#include "schema.json.hpp"


namespace train_decode {
namespace {

using spotflow::PluginError;
using Clock = std::chrono::steady_clock;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Settings {
    sim::SimParams sim;
    nlohmann::json sim_json;
    // The second camera: a fraction of the windows are simulated with
    // `simulation` overridden by `simulation_emccd` (any camera, in fact).
    sim::SimParams sim_emccd;
    nlohmann::json sim_emccd_json;
    double emccd_fraction = 0;
    double sigma_min = 0, sigma_max = 0; // PSF sigma per window, px; 0: the simulation's
    int64_t frame_size = 40, emitters_min = 1, emitters_max = 8;
    double photons_min = 300, photons_max = 6000, background_min = 2, background_max = 40;
    double edge_probability = 0.1, margin_px = 1;
    decode::NetConfig net;
    bool adamw = true;
    double lr = 1e-3, lr_gamma = 0.7, weight_decay = 1e-5, grad_clip = 0.03;
    int64_t lr_step = 1000, batch = 16, iterations = 4000, validate_every = 250, validation_samples = 128;
    double validation_photons = 0, tolerance = 2.0;
    decode::PostSettings post; // detect.decode's post-processing, for the validation scores
    uint64_t seed = 0;
};

// A batch of 3-frame windows with their targets.
struct Batch {
    torch::Tensor x;        // B x 3 x S x S, normalised
    torch::Tensor emitters; // B x M x 4: x, y, photons / photon_scale, weight (0: padding)
    torch::Tensor bg;       // B x 1 x S x S, background / input_scale
    std::vector<std::vector<decode::Point>> truth;
};

// Window `index` of the stream `seed`: its own simulation, so a batch is
// the same whatever the thread count.
Batch make_batch(const Settings& s, uint64_t seed, int64_t count, double fixed_photons) {
    const int64_t S = s.frame_size;
    Batch b;
    b.x = torch::empty({count, 3, S, S});
    b.bg = torch::empty({count, 1, S, S});
    b.truth.resize(static_cast<size_t>(count));
    std::vector<std::vector<float>> em(static_cast<size_t>(count));
    float* xd = b.x.data_ptr<float>();
    float* bd = b.bg.data_ptr<float>();
    tbb::parallel_for(int64_t{0}, count, [&](int64_t i) {
        const uint64_t ws = sim::mix_seed(seed, static_cast<uint64_t>(i)) >> 1;
        std::mt19937_64 rng(ws);
        const bool second = s.emccd_fraction > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < s.emccd_fraction;
        sim::SimParams p = second ? s.sim_emccd : s.sim;
        if (s.sigma_max > 0) {
            p.psf_sigma_nm = 0;
            p.psf_sigma_px = std::uniform_real_distribution<double>(s.sigma_min, s.sigma_max)(rng);
        }
        p.image_size = S;
        p.num_frames = 3;
        p.chunk_frames = 3;
        p.margin_px = s.margin_px;
        p.boundary = sim::Boundary::Reflect;
        p.mean_lifetime_frames = 0;
        p.calcium.enabled = false;
        p.num_tracks = std::uniform_int_distribution<int64_t>(s.emitters_min, s.emitters_max)(rng);
        p.photons = fixed_photons > 0 ? fixed_photons
                                      : std::exp(std::uniform_real_distribution<double>(std::log(s.photons_min),
                                                                                        std::log(s.photons_max))(rng));
        p.background = std::uniform_real_distribution<double>(s.background_min, s.background_max)(rng);
        p.background_gradient = 0;
        p.background_drift = 0;
        sim::MovieSimulator simulator(p, ws);
        sim::Chunk c = simulator.next_chunk();
        const auto px = static_cast<size_t>(S * S);
        // The detector replicates the movie's first and last frame as their
        // missing neighbour: train on such windows too.
        const double u = std::uniform_real_distribution<double>(0, 1)(rng);
        if (u < s.edge_probability / 2) std::copy_n(c.movie.begin() + px, px, c.movie.begin());
        else if (u < s.edge_probability) std::copy_n(c.movie.begin() + px, px, c.movie.begin() + 2 * px);
        // The detector's transform (libs/decode's normalise.hpp) for this
        // window's camera; targets in the same units.
        const decode::InputTransform tr = decode::input_transform(s.net.input_normalisation, p.camera);
        float* xi = xd + i * 3 * S * S;
        for (size_t k = 0; k < 3 * px; ++k)
            xi[k] = static_cast<float>((tr.units(c.movie[k]) - s.net.input_offset) / s.net.input_scale);
        std::fill_n(bd + i * S * S, S * S, static_cast<float>(tr.background_units(p.background) / s.net.input_scale));
        auto& e = em[static_cast<size_t>(i)];
        for (const auto& r : c.truth)
            if (r.frame == 1) {
                e.insert(e.end(), {static_cast<float>(r.x), static_cast<float>(r.y),
                                   static_cast<float>(r.photons / tr.photons_per_unit / s.net.photon_scale), 1.0f});
                b.truth[static_cast<size_t>(i)].push_back({r.x, r.y});
            }
    });
    size_t m = 1;
    for (const auto& e : em) m = std::max(m, e.size() / 4);
    b.emitters = torch::zeros({count, static_cast<int64_t>(m), 4});
    for (int64_t i = 0; i < count; ++i)
        std::copy(em[static_cast<size_t>(i)].begin(), em[static_cast<size_t>(i)].end(),
                  b.emitters.data_ptr<float>() + i * static_cast<int64_t>(m) * 4);
    return b;
}

struct Trainer {
    static constexpr const char* kContext = "train.decode";
    Trainer(const spotflow_host* host, const char* params_json);
    Trainer(const Trainer&) = delete; // the loop holds the optimiser's address
    Trainer& operator=(const Trainer&) = delete;
    spotflow_status pull(const spotflow_emitter* out);

    const spotflow_host* host = nullptr;
    Settings s;
    nlohmann::json params;
    std::unique_ptr<spotflow::nn::LossBridge> loss;
    decode::DecodeNet net{nullptr};
    std::unique_ptr<torch::optim::Optimizer> opt;
    std::unique_ptr<spotflow::nn::TrainingLoop> loop;
    std::vector<Batch> validation;
    std::string best_path, final_path, metrics_path, card_path;
    nlohmann::json best_scores, last_scores;
    Clock::time_point started;
    int threads = 1;
    double data_s = 0, net_s = 0; // time spent simulating and in the network, for the log

    // One step's data, forward pass and gradients (the loop zeroes, clips,
    // schedules and steps).
    double train_step(tbb::task_arena& arena, int64_t step) {
        net->train();
        const auto t0 = Clock::now();
        Batch b;
        // Simulation on oneTBB's threads; the network below on LibTorch's
        // OpenMP pool, outside the arena, so the two pools never run at once.
        arena.execute([&] { b = make_batch(s, sim::mix_seed(s.seed, 1000 + static_cast<uint64_t>(step)), s.batch, 0); });
        const auto t1 = Clock::now();
        loss->set_step(step);
        const double l = loss->backward(net->forward(b.x), {b.emitters, b.bg});
        data_s += std::chrono::duration<double>(t1 - t0).count();
        net_s += std::chrono::duration<double>(Clock::now() - t1).count();
        return l;
    }

    nlohmann::json validate() {
        torch::NoGradGuard ng;
        net->eval();
        decode::Scores sc;
        double lsum = 0, p_max = 0;
        decode::PostSettings post = s.post;
        post.photon_scale = s.net.photon_scale;
        post.background_scale = s.net.input_scale;
        nlohmann::json components = nlohmann::json::object();
        for (const auto& b : validation) {
            const auto out = net->forward(b.x).contiguous();
            const double w = static_cast<double>(b.x.size(0)) / static_cast<double>(s.validation_samples);
            lsum += loss->compute({out}, {b.emitters, b.bg}) * static_cast<double>(b.x.size(0));
            // The loss's terms (ABI 1.1 losses), averaged like the loss.
            for (const auto& [name, value] : loss->components())
                components[name] = components.value(name, 0.0) + value * w;
            p_max = std::max(p_max, out.select(1, 0).max().item<double>());
            const int64_t S = s.frame_size;
            for (int64_t i = 0; i < out.size(0); ++i) {
                std::vector<decode::Point> det;
                for (const auto& l : decode::postprocess(out[i].data_ptr<float>(), S, S, post)) det.push_back({l.x, l.y});
                sc += decode::match_frame(det, b.truth[static_cast<size_t>(i)], s.tolerance);
            }
        }
        return {{"loss", lsum / static_cast<double>(s.validation_samples)},
                {"loss_components", components},
                {"precision", sc.precision()},
                {"recall", sc.recall()},
                {"f1", sc.f1()},
                {"rmse_px", sc.rmse()},
                {"tp", sc.tp},
                {"p_max", p_max},
                {"fp", sc.fp},
                {"fn", sc.fn},
                {"elapsed_s", std::chrono::duration<double>(Clock::now() - started).count()}};
    }

    nlohmann::json card(const std::string& which) const {
        int64_t n_params = 0;
        for (const auto& p : net->parameters()) n_params += p.numel();
        return {{"model", "detect.decode weights (" + which + ")"},
                {"trainer", "train.decode 1.0.0"},
                {"recipe", params.value("recipe", std::string())},
                {"params", params},
                {"data_model", {{"simulator", "sim.tirf 1.0.0 (linked in)"}, {"physics", s.sim_json},
                                {"second_camera", s.emccd_fraction > 0 ? s.sim_emccd_json : nlohmann::json()},
                                {"second_camera_fraction", s.emccd_fraction},
                                {"psf_sigma_px_uniform", s.sigma_max > 0 ? nlohmann::json{s.sigma_min, s.sigma_max} : nlohmann::json()},
                                {"input_normalisation", decode::normalisation_name(s.net.input_normalisation)},
                                {"frame_size", s.frame_size}, {"emitters", {s.emitters_min, s.emitters_max}},
                                {"photons_log_uniform", {s.photons_min, s.photons_max}},
                                {"background_uniform", {s.background_min, s.background_max}}}},
                {"network", {{"config", s.net.to_json()}, {"parameters", n_params},
                             {"macs_per_pixel_streamed", net->macs_per_pixel_streamed()},
                             {"macs_per_pixel_window", net->macs_per_pixel_window()}}},
                {"scores_best", best_scores},
                {"scores_final", last_scores},
                {"steps", loop->step()},
                {"threads", threads},
                {"training_time_s", std::chrono::duration<double>(Clock::now() - started).count()},
                {"libtorch", TORCH_VERSION}};
    }
};

Settings parse(const nlohmann::json& p, const spotflow_host* host) {
    Settings s;
    // The data model: sim.tirf's defaults overridden by `simulation`.
    nlohmann::json sj = sim::to_json(sim::SimParams{});
    const nlohmann::json user_sim = p.value("simulation", nlohmann::json::object());
    for (const auto& [k, v] : user_sim.items()) {
        if (!sj.contains(k)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'simulation." + k + "' is not a sim.tirf param");
        sj[k] = v;
    }
    s.sim = sim::parse_params(sj);
    s.sim_json = sj;
    nlohmann::json ej = sj;
    const nlohmann::json user_emccd = p.value("simulation_emccd", nlohmann::json::object());
    for (const auto& [k, v] : user_emccd.items()) {
        if (!ej.contains(k)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'simulation_emccd." + k + "' is not a sim.tirf param");
        ej[k] = v;
    }
    s.sim_emccd = sim::parse_params(ej);
    s.sim_emccd_json = ej;
    s.emccd_fraction = p.value("emccd_fraction", 0.0);
    s.sigma_min = p.value("psf_sigma_min", 0.0);
    s.sigma_max = p.value("psf_sigma_max", 0.0);
    if (s.sigma_max > 0 && !(s.sigma_min > 0 && s.sigma_min <= s.sigma_max))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "params 'psf_sigma_min' and 'psf_sigma_max': need 0 < psf_sigma_min <= psf_sigma_max");
    nlohmann::json nj = decode::NetConfig{}.to_json();
    const nlohmann::json user_net = p.value("network", nlohmann::json::object());
    for (const auto& [k, v] : user_net.items()) {
        if (!nj.contains(k) || k == "architecture") throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'network." + k + "' is unknown");
        nj[k] = v;
    }
    try {
        s.net = decode::NetConfig::from_json(nj);
    } catch (const std::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("param 'network': ") + e.what());
    }
    s.frame_size = p.value("frame_size", 40);
    if (s.frame_size % s.net.size_multiple())
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'frame_size' must be a multiple of " + std::to_string(s.net.size_multiple()));
    s.emitters_min = p.value("emitters_min", 1);
    s.emitters_max = p.value("emitters_max", 8);
    if (s.emitters_max < s.emitters_min) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'emitters_max' is below emitters_min");
    s.photons_min = p.value("photons_min", 300.0);
    s.photons_max = p.value("photons_max", 6000.0);
    if (!(s.photons_min > 0) || s.photons_max < s.photons_min) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'photons_max' is below photons_min");
    s.background_min = p.value("background_min", 2.0);
    s.background_max = p.value("background_max", 40.0);
    if (s.background_max < s.background_min) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'background_max' is below background_min");
    s.edge_probability = p.value("edge_probability", 0.1);
    s.margin_px = p.value("margin_px", 1.0);
    if (2 * s.margin_px >= static_cast<double>(s.frame_size - 1))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'margin_px' leaves no room in a frame_size frame");
    s.adamw = p.value("optimizer", std::string("adamw")) == "adamw";
    s.lr = p.value("learning_rate", 1e-3);
    s.lr_step = p.value("lr_step_size", 1000);
    s.lr_gamma = p.value("lr_gamma", 0.7);
    s.weight_decay = p.value("weight_decay", 1e-5);
    s.batch = p.value("batch_size", 16);
    s.iterations = p.value("iterations", 4000);
    s.grad_clip = p.value("grad_clip_norm", 0.03);
    s.validate_every = p.value("validate_every", 250);
    s.validation_samples = p.value("validation_samples", 128);
    s.validation_photons = p.value("validation_photons", 0.0);
    s.post = decode::post_settings_from(p);
    s.tolerance = p.value("tolerance_px", 2.0);
    const int64_t seed = p.value("seed", int64_t{-1});
    s.seed = seed >= 0 ? static_cast<uint64_t>(seed) : host->seed(host) >> 1;
    if (s.batch < 1 || s.iterations < 1 || s.validate_every < 1 || s.validation_samples < 1 || !(s.lr > 0))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "params batch_size, iterations, validate_every, validation_samples, learning_rate must be positive");
    return s;
}

Trainer::Trainer(const spotflow_host* host_, const char* params_json) : host(host_) {
    params = nlohmann::json::parse(params_json);
    s = parse(params, host);
    threads = std::max(1, host->threads(host));
    spotflow::nn::set_threads(threads);
    try {
        loss = std::make_unique<spotflow::nn::LossBridge>(
            host, params.value("loss", std::string("loss.decode_gmm")),
            params.value("loss_params", nlohmann::json::object()));
    } catch (const spotflow::nn::LossNotCreated& e) {
        throw spotflow::AlreadyReported{e.status}; // the host has said why
    }
    const auto out = [&](const char* key, std::string* path) {
        const std::string name = params.value(key, std::string());
        char buf[4096];
        const spotflow_status st = host->output_path(host, name.c_str(), buf, sizeof buf);
        if (st != SPOTFLOW_OK) throw PluginError(st, "param '" + std::string(key) + "': cannot write '" + name + "'");
        *path = buf;
    };
    out("best_model", &best_path);
    out("final_model", &final_path);
    out("metrics_file", &metrics_path);
    out("model_card", &card_path);
    spotflow::nn::seed_everything(s.seed);
    net = decode::DecodeNet(s.net);
    // Two parameter groups: the network's, and the loss's learnable
    // parameters (none for loss.decode_gmm) without weight decay.
    const auto groups = [&](auto make_options) {
        std::vector<torch::optim::OptimizerParamGroup> g;
        g.emplace_back(net->parameters(), make_options(s.weight_decay));
        if (!loss->parameters().empty()) g.emplace_back(loss->parameters(), make_options(0.0));
        return g;
    };
    if (s.adamw)
        opt = std::make_unique<torch::optim::AdamW>(
            groups([&](double wd) { return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(s.lr).weight_decay(wd)); }),
            torch::optim::AdamWOptions(s.lr).weight_decay(s.weight_decay));
    else
        opt = std::make_unique<torch::optim::Adam>(
            groups([&](double wd) { return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(s.lr).weight_decay(wd)); }),
            torch::optim::AdamOptions(s.lr).weight_decay(s.weight_decay));
    spotflow::nn::LoopOptions lo;
    lo.iterations = s.iterations;
    lo.validate_every = s.validate_every;
    lo.grad_clip_norm = s.grad_clip;
    lo.best_by = {{"f1", true}, {"rmse_px", false}}; // ties: lower RMSE
    spotflow::nn::ScheduleOptions so; // StepLR, as DECODE
    so.kind = spotflow::nn::ScheduleOptions::Step;
    so.step_size = s.lr_step;
    so.gamma = s.lr_gamma;
    loop = std::make_unique<spotflow::nn::TrainingLoop>(lo, *opt, spotflow::nn::Schedule(so));
    try {
        loop->open_log(metrics_path);
    } catch (const std::exception& e) {
        throw PluginError(SPOTFLOW_ERR_IO, e.what());
    }
    // The fixed validation set: its own seed stream, in batches.
    tbb::task_arena arena(threads);
    arena.execute([&] {
        for (int64_t i = 0; i < s.validation_samples; i += 32)
            validation.push_back(make_batch(s, sim::mix_seed(s.seed, 7) + static_cast<uint64_t>(i),
                                               std::min<int64_t>(32, s.validation_samples - i),
                                               s.validation_photons));
    });
}

spotflow_status Trainer::pull(const spotflow_emitter*) {
    Trainer& t = *this;
    if (t.loop->step() == 0) t.started = Clock::now();
    tbb::task_arena arena(t.threads);
    spotflow::nn::LoopHooks hooks;
    hooks.train_step = [&](int64_t step) {
        const double l = t.train_step(arena, step);
        t.host->progress(t.host, step + 1, t.s.iterations);
        return l;
    };
    hooks.validate = [&](int64_t) { return t.validate(); };
    hooks.on_best = [&](const nlohmann::json& v) {
        t.last_scores = v;
        t.best_scores = v;
        decode::save_weights(t.net, t.card("best"), t.best_path);
    };
    hooks.cancelled = [&] { return t.host->is_cancelled(t.host) != 0; };
    const nlohmann::json v = t.loop->advance(hooks);
    if (v.empty() || t.host->is_cancelled(t.host)) return SPOTFLOW_ERR_CANCELLED;
    t.last_scores = v;
    const double f1 = v["f1"], rmse = v["rmse_px"];
    char line[256];
    std::snprintf(line, sizeof line, "train.decode: step %lld/%lld  loss %.3f  val F1 %.4f  P %.4f  R %.4f  RMSE %.4f px",
                  static_cast<long long>(t.loop->step()), static_cast<long long>(t.s.iterations), t.loop->running_loss(), f1,
                  static_cast<double>(v["precision"]), static_cast<double>(v["recall"]), rmse);
    t.host->log(t.host, SPOTFLOW_LOG_INFO, line);
    std::snprintf(line, sizeof line, "train.decode: %.3f s/step simulating, %.3f s/step in the network", t.data_s / double(t.loop->step()),
                  t.net_s / double(t.loop->step()));
    t.host->log(t.host, SPOTFLOW_LOG_DEBUG, line);
    if (!t.loop->finished()) return SPOTFLOW_OK;
    decode::save_weights(t.net, t.card("final"), t.final_path);
    std::ofstream card(t.card_path, std::ios::trunc);
    card << t.card("best").dump(2) << "\n";
    if (!card) throw PluginError(SPOTFLOW_ERR_IO, "cannot write " + t.card_path);
    return SPOTFLOW_DONE;
}

const spotflow_node_vtable kVtable = spotflow::node_vtable<Trainer>();

} // namespace

const spotflow_plugin_desc kDesc = {"train.decode", "1.0.0",
                                    "Trains detect.decode's network on simulated windows with a loss plugin (loss.decode_gmm)",
                                    "trainer", nullptr, 0, 0, nullptr, kSchema, &kVtable, nullptr};

} // namespace train_decode

SPOTFLOW_EXPORT_PLUGINS(train_decode::kDesc);

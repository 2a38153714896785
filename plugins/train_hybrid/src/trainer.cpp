// train.hybrid: trains libs/nn's hybrid localisation + calcium network
// (seed 001) on two-channel windows simulated by libs/sim, in the seed's
// stages: "localisation" (stage 1: puncta only, loss.decode_gmm, encoder
// optionally frozen or pretrained) and "joint" (stage 2: puncta + calcium,
// loss.kendall weighting loss.decode_gmm and a calcium loss with learnt
// log-variances, from stage 1's weights). libs/nn's training loop, loss
// bridge, weights files and cosine schedule; libs/tables' matching for the
// validation scores; libs/plot for the log-sigma figure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <torch/optim/adamw.h>
#include <torch/version.h>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_nn/hybrid.hpp"
#include "spotflow_nn/loss_bridge.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/weights.hpp"
#include "spotflow_plot/plot.hpp"
#include "spotflow_sim/params.hpp"
#include "spotflow_sim/rng.hpp"
#include "spotflow_sim/simulator.hpp"
#include "spotflow_sim/tracks.hpp"
#include "spotflow_tables/frame_matching.hpp"
#include "calcium_target.hpp"
#include "schema.json.hpp"

namespace train_hybrid {
namespace {

using spotflow::PluginError;
using Clock = std::chrono::steady_clock;
namespace nn = spotflow::nn;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Settings {
    bool joint = false;
    nn::HybridOptions net;
    sim::SimParams sim;
    nlohmann::json sim_json;
    int64_t frame_size = 32, emitters_min = 1, emitters_max = 6, burn_in = 10;
    double photons_min = 500, photons_max = 5000, background_min = 5, background_max = 30;
    double event_rate = 0.08, radius = 1.5, active_fraction = 0.5;
    int64_t iterations = 600, batch = 4, validate_every = 100, validation_samples = 32, checkpoint_every = 0;
    double lr = 1e-3, lr_s = 0, lr_calcium = 0, weight_decay = 1e-5, grad_clip = 0.03, threshold = 0.5, tolerance = 2.0;
    bool cosine = true, freeze = false, ignore_background = true;
    uint64_t seed = 0;
};

struct Point {
    double x, y;
};

// Windows with their targets.
struct Batch {
    torch::Tensor x;        // B x (frames * C) x S x S, normalised
    torch::Tensor emitters; // B x M x 4: x, y, photons / photon_scale, weight
    torch::Tensor bg;       // B x 1 x S x S, background / input_scale
    torch::Tensor calcium;  // B x 1 x S x S, 0/1 event target at the centre frame, -1 ignored (calcium_target.hpp)
    std::vector<std::vector<Point>> truth;
};

Batch make_batch(const Settings& s, uint64_t seed, int64_t count) {
    const int64_t S = s.frame_size, T = s.net.frames, C = s.net.in_channels;
    Batch b;
    b.x = torch::empty({count, T, C, S, S});
    b.bg = torch::empty({count, 1, S, S});
    b.calcium = torch::zeros({count, 1, S, S});
    b.truth.resize(static_cast<size_t>(count));
    std::vector<std::vector<float>> em(static_cast<size_t>(count));
    const auto& cam = s.sim.camera;
    const double per_adu = cam.e_per_adu / (cam.kind == sim::CameraKind::Emccd ? cam.em_gain : 1.0) / cam.qe;
    float* xd = b.x.data_ptr<float>();
    float* bd = b.bg.data_ptr<float>();
    float* cd = b.calcium.data_ptr<float>();
    tbb::parallel_for(int64_t{0}, count, [&](int64_t i) {
        const uint64_t ws = sim::mix_seed(seed, static_cast<uint64_t>(i)) >> 1;
        std::mt19937_64 rng(ws);
        sim::SimParams p = s.sim;
        p.image_size = S;
        p.num_frames = s.burn_in + T;
        p.chunk_frames = p.num_frames;
        p.boundary = sim::Boundary::Reflect;
        p.mean_lifetime_frames = 0;
        p.calcium.enabled = true; // the puncta do not depend on it (libs/sim's separate streams)
        p.calcium.event_rate = s.event_rate;
        p.num_tracks = std::uniform_int_distribution<int64_t>(s.emitters_min, s.emitters_max)(rng);
        p.photons = std::exp(std::uniform_real_distribution<double>(std::log(s.photons_min), std::log(s.photons_max))(rng));
        p.background = std::uniform_real_distribution<double>(s.background_min, s.background_max)(rng);
        p.background_gradient = 0;
        p.background_drift = 0;
        sim::MovieSimulator simulator(p, ws);
        const sim::Chunk c = simulator.next_chunk();
        const auto px = static_cast<size_t>(S * S);
        float* xi = xd + i * T * C * S * S;
        for (int64_t t = 0; t < T; ++t)
            for (int64_t ch = 0; ch < C; ++ch) {
                const auto& src = ch == 0 ? c.movie : c.calcium;
                const size_t from = static_cast<size_t>(s.burn_in + t) * px;
                for (size_t k = 0; k < px; ++k)
                    xi[(t * C + ch) * S * S + static_cast<int64_t>(k)] =
                        static_cast<float>((src[from + k] - cam.baseline_adu) * per_adu);
            }
        std::fill_n(bd + i * S * S, S * S, static_cast<float>(p.background / s.net.input_scale));
        const int64_t centre = s.burn_in + T / 2;
        auto& e = em[static_cast<size_t>(i)];
        std::vector<CalciumPunctum> puncta;
        for (const auto& r : c.truth) {
            if (r.frame != centre) continue;
            e.insert(e.end(), {static_cast<float>(r.x), static_cast<float>(r.y),
                               static_cast<float>(r.photons / s.net.photon_scale), 1.0f});
            b.truth[static_cast<size_t>(i)].push_back({r.x, r.y});
            puncta.push_back({r.x, r.y, calcium_active(simulator.events(), r.track_id, centre, p.calcium.rise_frames, s.active_fraction)});
        }
        calcium_target(puncta, S, s.radius, s.ignore_background, cd + i * S * S);
    });
    size_t m = 1;
    for (const auto& e : em) m = std::max(m, e.size() / 4);
    b.emitters = torch::zeros({count, static_cast<int64_t>(m), 4});
    for (int64_t i = 0; i < count; ++i)
        std::copy(em[static_cast<size_t>(i)].begin(), em[static_cast<size_t>(i)].end(),
                  b.emitters.data_ptr<float>() + i * static_cast<int64_t>(m) * 4);
    return b;
}

Settings parse(const nlohmann::json& p, const spotflow_host* host) {
    Settings s;
    s.joint = p.at("stage").get<std::string>() == "joint";
    nlohmann::json sj = sim::to_json(sim::SimParams{});
    for (const auto& [k, v] : p.at("simulation").items()) {
        if (!sj.contains(k)) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'simulation." + k + "' is not a sim.tirf param");
        sj[k] = v;
    }
    s.sim = sim::parse_params(sj);
    s.sim_json = sj;
    nlohmann::json nj = nn::HybridOptions{}.to_json();
    for (const auto& [k, v] : p.at("network").items()) {
        if (!nj.contains(k) || k == "architecture" || k == "in_channels")
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'network." + k + "' is unknown (in_channels is a param of its own)");
        nj[k] = v;
    }
    const int in = p.at("in_channels").get<int>();
    nj["in_channels"] = in > 0 ? in : (s.joint ? 2 : 1);
    if (s.joint && nj["in_channels"] != 2)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'in_channels': stage joint needs the calcium channel (2)");
    try {
        s.net = nn::HybridOptions::from_json(nj);
    } catch (const std::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("param 'network': ") + e.what());
    }
    s.frame_size = p.at("frame_size");
    if (s.frame_size % s.net.size_multiple())
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'frame_size' must be a multiple of " + std::to_string(s.net.size_multiple()));
    s.emitters_min = p.at("emitters_min");
    s.emitters_max = p.at("emitters_max");
    if (s.emitters_max < s.emitters_min) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'emitters_max' is below emitters_min");
    s.photons_min = p.at("photons_min");
    s.photons_max = p.at("photons_max");
    if (s.photons_max < s.photons_min) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'photons_max' is below photons_min");
    s.background_min = p.at("background_min");
    s.background_max = p.at("background_max");
    if (s.background_max < s.background_min) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'background_max' is below background_min");
    s.event_rate = p.at("calcium_event_rate");
    s.burn_in = p.at("burn_in_frames");
    s.radius = p.at("calcium_radius_px");
    s.active_fraction = p.at("active_fraction");
    s.ignore_background = p.at("calcium_ignore_background");
    s.iterations = p.at("iterations");
    s.lr = p.at("learning_rate");
    s.lr_s = p.at("log_variance_learning_rate");
    s.lr_calcium = p.at("calcium_learning_rate");
    s.cosine = p.at("schedule").get<std::string>() == "cosine";
    s.weight_decay = p.at("weight_decay");
    s.batch = p.at("batch_size");
    s.grad_clip = p.at("grad_clip_norm");
    s.validate_every = p.at("validate_every");
    s.validation_samples = p.at("validation_samples");
    s.checkpoint_every = p.at("checkpoint_every");
    s.threshold = p.at("detection_threshold");
    s.tolerance = p.at("tolerance_px");
    s.freeze = p.at("freeze_encoder");
    const int64_t seed = p.at("seed");
    s.seed = seed >= 0 ? static_cast<uint64_t>(seed) : host->seed(host) >> 1;
    int given = 0;
    for (const char* k : {"pretrained_encoder", "pretrained_localization", "checkpoint"}) given += !p.at(k).get<std::string>().empty();
    if (given > 1)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "params pretrained_encoder, pretrained_localization and checkpoint: give at most one");
    return s;
}

class Trainer {
public:
    static constexpr const char* kContext = "train.hybrid";

    Trainer(const spotflow_host* host, const char* params_json) : host_(host), params_(nlohmann::json::parse(params_json)) {
        s_ = parse(params_, host);
        threads_ = std::max(1, host->threads(host));
        nn::set_threads(threads_);
        nn::seed_everything(s_.seed);
        net_ = nn::HybridNet(s_.net);
        load_start();
        make_loss();
        for (auto [key, path] : {std::pair{"best_model", &best_path_}, {"final_model", &final_path_},
                                 {"metrics_file", &metrics_path_}, {"model_card", &card_path_}, {"figure", &figure_path_}})
            *path = output(key);
        // Optimiser groups: the network's trainable parameters, then the
        // loss's (Kendall's s_i) without weight decay.
        std::vector<torch::Tensor> trainable;
        if (!s_.freeze)
            for (auto& t : net_->encoder_parameters()) trainable.push_back(t);
        else
            for (auto& t : net_->encoder_parameters()) t.set_requires_grad(false);
        for (auto& t : net_->localisation_parameters()) trainable.push_back(t);
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(trainable, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(s_.lr).weight_decay(s_.weight_decay)));
        // The calcium decoder starts from scratch in stage joint: a group of
        // its own at calcium_learning_rate (0: learning_rate).
        if (s_.joint)
            groups.emplace_back(net_->calcium_parameters(),
                                std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(s_.lr_calcium > 0 ? s_.lr_calcium : s_.lr).weight_decay(s_.weight_decay)));
        if (!loss_->parameters().empty())
            groups.emplace_back(loss_->parameters(), std::make_unique<torch::optim::AdamWOptions>(
                                                         torch::optim::AdamWOptions(s_.lr_s > 0 ? s_.lr_s : s_.lr).weight_decay(0.0)));
        opt_ = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(s_.lr));
        nn::LoopOptions lo;
        lo.iterations = s_.iterations;
        lo.validate_every = s_.validate_every;
        lo.checkpoint_every = s_.checkpoint_every;
        lo.grad_clip_norm = s_.grad_clip;
        lo.best_by = s_.joint ? std::vector<nn::MetricKey>{{"score", true}, {"rmse_px", false}}
                              : std::vector<nn::MetricKey>{{"f1", true}, {"rmse_px", false}};
        nn::ScheduleOptions so;
        so.kind = s_.cosine ? nn::ScheduleOptions::Cosine : nn::ScheduleOptions::Constant;
        so.total_steps = s_.iterations;
        loop_ = std::make_unique<nn::TrainingLoop>(lo, *opt_, nn::Schedule(so));
        try {
            loop_->open_log(metrics_path_);
        } catch (const std::exception& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
        tbb::task_arena arena(threads_);
        arena.execute([&] {
            for (int64_t i = 0; i < s_.validation_samples; i += 16)
                validation_.push_back(make_batch(s_, sim::mix_seed(s_.seed, 7) + static_cast<uint64_t>(i),
                                                 std::min<int64_t>(16, s_.validation_samples - i)));
        });
    }

    spotflow_status pull(const spotflow_emitter*) {
        if (loop_->step() == 0) started_ = Clock::now();
        tbb::task_arena arena(threads_);
        nn::LoopHooks hooks;
        hooks.train_step = [&](int64_t step) {
            const double l = train_step(arena, step);
            host_->progress(host_, step + 1, s_.iterations);
            return l;
        };
        hooks.validate = [&](int64_t) { return validate(); };
        // Best and periodic weights are published as they are written (a
        // later failure keeps them); a newer version claims the name again.
        hooks.on_best = [&](const nlohmann::json& v) {
            best_ = v;
            if (best_published_) best_path_ = output("best_model");
            save(best_path_, "best");
            best_published_ = publish("best_model");
        };
        hooks.on_checkpoint = [&](int64_t step) {
            save(output("checkpoint_file"), "checkpoint at step " + std::to_string(step));
            publish("checkpoint_file");
        };
        hooks.cancelled = [&] { return host_->is_cancelled(host_) != 0; };
        const nlohmann::json v = loop_->advance(hooks);
        if (v.empty() || host_->is_cancelled(host_)) return SPOTFLOW_ERR_CANCELLED;
        history_.push_back(v);
        last_ = v;
        char line[320];
        std::snprintf(line, sizeof line,
                      "train.hybrid: step %lld/%lld  loss %.3f  P %.3f  R %.3f  RMSE %.3f px  calcium F1 %.3f IoU %.3f  log sigma %.3f %.3f",
                      static_cast<long long>(loop_->step()), static_cast<long long>(s_.iterations), loop_->running_loss(),
                      v.value("precision", 0.0), v.value("recall", 0.0), v.value("rmse_px", NAN), v.value("calcium_f1", NAN),
                      v.value("calcium_iou", NAN), v.value("log_sigma_localisation", NAN), v.value("log_sigma_calcium", NAN));
        host_->log(host_, SPOTFLOW_LOG_INFO, line);
        if (!loop_->finished()) return SPOTFLOW_OK;
        save(final_path_, "final");
        std::ofstream card(card_path_, std::ios::trunc);
        card << card_json("best").dump(2) << "\n";
        if (!card) throw PluginError(SPOTFLOW_ERR_IO, "cannot write " + card_path_);
        card.close();
        draw_figure();
        return SPOTFLOW_DONE;
    }

private:
    std::string output(const char* key) {
        const std::string name = params_.at(key).get<std::string>();
        char buf[4096];
        const spotflow_status st = host_->output_path(host_, name.c_str(), buf, sizeof buf);
        if (st != SPOTFLOW_OK) throw PluginError(st, "param '" + std::string(key) + "': cannot write '" + name + "'");
        return buf;
    }
    // Publishes the output `key` names (ABI 1.1 hosts); false on a 1.0 host
    // (the file is then final when the run succeeds).
    bool publish(const char* key) {
        const std::string name = params_.at(key).get<std::string>();
        if (host_->abi.minor < 1 || !host_->publish_output) return false;
        if (host_->publish_output(host_, name.c_str()) != SPOTFLOW_OK) throw spotflow::AlreadyReported{SPOTFLOW_ERR_IO};
        return true;
    }

    void load_start() {
        const auto from = [&](const char* key, nn::Pretrained part) {
            const std::string path = params_.at(key).get<std::string>();
            if (path.empty()) return;
            try {
                nn::load_pretrained(nn::read_weights(path), net_, part);
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("param '") + key + "': " + e.what());
            }
            start_from_ = {{"param", key}, {"file", path}};
        };
        from("pretrained_encoder", nn::Pretrained::Encoder);
        from("pretrained_localization", nn::Pretrained::EncoderAndLocalisation);
        from("checkpoint", nn::Pretrained::All);
    }

    void make_loss() {
        const nlohmann::json loc = params_.at("localisation_loss_params");
        try {
            if (!s_.joint) {
                loss_ = std::make_unique<nn::LossBridge>(host_, "loss.decode_gmm", loc);
            } else {
                const auto s0 = params_.at("initial_log_variances");
                const nlohmann::json k = {
                    {"terms",
                     {{{"name", "localisation"}, {"loss", "loss.decode_gmm"}, {"params", loc}, {"predictions", 1},
                       {"targets", 2}, {"initial_log_variance", s0[0]}},
                      {{"name", "calcium"}, {"loss", params_.at("calcium_loss")}, {"params", params_.at("calcium_loss_params")},
                       {"predictions", 1}, {"targets", 1}, {"initial_log_variance", s0[1]}}}}};
                loss_ = std::make_unique<nn::LossBridge>(host_, "loss.kendall", k);
            }
        } catch (const nn::LossNotCreated& e) {
            throw spotflow::AlreadyReported{e.status}; // the host has said why
        }
    }

    double run_loss(const Batch& b, const nn::HybridOutput& out, bool backward) {
        std::vector<torch::Tensor> grads;
        double l;
        if (!s_.joint) {
            l = loss_->compute({out.localisation}, {b.emitters, b.bg}, backward ? &grads : nullptr);
            if (backward) out.localisation.backward(grads[0]);
        } else {
            l = loss_->compute({out.localisation, out.calcium}, {b.emitters, b.bg, b.calcium}, backward ? &grads : nullptr);
            if (backward) torch::autograd::backward({out.localisation, out.calcium}, {grads[0], grads[1]});
        }
        return l;
    }

    double train_step(tbb::task_arena& arena, int64_t step) {
        net_->train();
        Batch b;
        arena.execute([&] { b = make_batch(s_, sim::mix_seed(s_.seed, 1000 + static_cast<uint64_t>(step)), s_.batch); });
        loss_->set_step(step);
        return run_loss(b, net_->forward(net_->normalise(b.x)), true);
    }

    nlohmann::json validate() {
        torch::NoGradGuard ng;
        net_->eval();
        int64_t tp = 0, fp = 0, fn = 0, ctp = 0, cfp = 0, cfn = 0;
        double se = 0, lsum = 0;
        nlohmann::json components = nlohmann::json::object();
        for (const auto& b : validation_) {
            const auto out = net_->forward(net_->normalise(b.x));
            const double w = static_cast<double>(b.x.size(0)) / static_cast<double>(s_.validation_samples);
            lsum += run_loss(b, out, false) * w;
            for (const auto& [name, value] : loss_->components()) components[name] = components.value(name, 0.0) + value * w;
            const auto loc = out.localisation.contiguous();
            for (int64_t i = 0; i < loc.size(0); ++i) {
                const auto det = nn::hybrid_detections(loc[i], {}, s_.net, s_.threshold, loc.size(2), loc.size(3));
                const auto& tr = b.truth[static_cast<size_t>(i)];
                std::vector<int64_t> df(det.size(), 0), tf(tr.size(), 0);
                std::vector<double> dx, dy, tx, ty;
                for (const auto& d : det) dx.push_back(d.x), dy.push_back(d.y);
                for (const auto& t : tr) tx.push_back(t.x), ty.push_back(t.y);
                const auto m = spotflow::tables::match_by_frame({df, dx, dy}, {tf, tx, ty}, s_.tolerance);
                int64_t matched = 0;
                for (size_t k = 0; k < det.size(); ++k)
                    if (m[k] >= 0) {
                        ++matched;
                        const size_t t = static_cast<size_t>(m[k]);
                        se += (dx[k] - tx[t]) * (dx[k] - tx[t]) + (dy[k] - ty[t]) * (dy[k] - ty[t]);
                    }
                tp += matched;
                fp += static_cast<int64_t>(det.size()) - matched;
                fn += static_cast<int64_t>(tr.size()) - matched;
            }
            if (s_.joint) {
                // Over the scored pixels (target != -1: the puncta's discs).
                const auto valid = b.calcium >= 0.0f;
                const auto pred = (out.calcium >= 0.0) & valid; // sigmoid >= 0.5
                const auto truth = b.calcium > 0.5f;
                ctp += (pred & truth).sum().item<int64_t>();
                cfp += (pred & ~truth).sum().item<int64_t>();
                cfn += (~pred & truth).sum().item<int64_t>();
            }
        }
        const auto ratio = [](int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
        nlohmann::json v = {{"loss", lsum},
                            {"loss_components", components},
                            {"precision", ratio(tp, tp + fp)},
                            {"recall", ratio(tp, tp + fn)},
                            {"f1", ratio(2 * tp, 2 * tp + fp + fn)},
                            {"rmse_px", tp > 0 ? std::sqrt(se / static_cast<double>(tp)) : 1e9},
                            {"tp", tp},
                            {"fp", fp},
                            {"fn", fn},
                            {"elapsed_s", std::chrono::duration<double>(Clock::now() - started_).count()}};
        if (s_.joint) {
            v["calcium_f1"] = ratio(2 * ctp, 2 * ctp + cfp + cfn);
            v["calcium_iou"] = ratio(ctp, ctp + cfp + cfn);
            v["calcium_positive_pixels"] = ctp + cfn;
            // s_i = log sigma_i^2, so log sigma_i = s_i / 2.
            const auto& ps = loss_->parameters();
            v["log_sigma_localisation"] = 0.5 * ps.at(0).item<double>();
            v["log_sigma_calcium"] = 0.5 * ps.at(1).item<double>();
            v["score"] = 0.5 * (v["f1"].get<double>() + v["calcium_f1"].get<double>());
        }
        return v;
    }

    nlohmann::json card_json(const std::string& which) const {
        int64_t n = 0;
        for (const auto& p : net_->parameters()) n += p.numel();
        return {{"model", "train.hybrid weights (" + which + ")"},
                {"trainer", "train.hybrid 1.0.0"},
                {"stage", s_.joint ? "joint" : "localisation"},
                {"recipe", params_.at("recipe")},
                {"params", params_},
                {"started_from", start_from_},
                {"data_model", {{"simulator", "libs/sim (sim.tirf), linked in"}, {"physics", s_.sim_json},
                                {"frame_size", s_.frame_size}, {"emitters", {s_.emitters_min, s_.emitters_max}},
                                {"photons_log_uniform", {s_.photons_min, s_.photons_max}},
                                {"background_uniform", {s_.background_min, s_.background_max}},
                                {"calcium_event_rate", s_.event_rate}, {"burn_in_frames", s_.burn_in}}},
                {"network", {{"config", s_.net.to_json()}, {"parameters", n}, {"macs_per_pixel", net_->macs_per_pixel()}}},
                {"scores_best", best_},
                {"scores_final", last_},
                {"steps", loop_->step()},
                {"threads", threads_},
                {"training_time_s", std::chrono::duration<double>(Clock::now() - started_).count()},
                {"libtorch", TORCH_VERSION}};
    }

    void save(const std::string& path, const std::string& which) {
        try {
            nn::save_weights(path, s_.net.to_json(), *net_, card_json(which));
        } catch (const std::exception& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
    }

    void draw_figure() const {
        std::vector<double> steps, loss, f1, rmse, cf1, s1, s2;
        for (const auto& v : history_) {
            steps.push_back(v.at("step").get<double>());
            loss.push_back(v.at("loss").get<double>());
            f1.push_back(v.at("f1").get<double>());
            rmse.push_back(std::min(v.at("rmse_px").get<double>(), 3.0));
            if (s_.joint) {
                cf1.push_back(v.at("calcium_f1").get<double>());
                s1.push_back(v.at("log_sigma_localisation").get<double>());
                s2.push_back(v.at("log_sigma_calcium").get<double>());
            }
        }
        using spotflow::plot::Series;
        spotflow::plot::Figure fig(1500, 450, 1, 3, std::string("train.hybrid, stage ") + (s_.joint ? "joint" : "localisation"));
        fig.lines(0, {"validation loss", "step", "loss", {}, {}, true}, {Series{"loss", steps, loss, Series::LinePoints}});
        std::vector<Series> sc = {Series{"localisation F1", steps, f1, Series::LinePoints},
                                  Series{"RMSE (px, capped at 3)", steps, rmse, Series::LinePoints}};
        if (s_.joint) sc.push_back(Series{"calcium F1 (pixels)", steps, cf1, Series::LinePoints});
        fig.lines(1, {"validation scores", "step", "", {}, {}, true}, sc);
        if (s_.joint)
            fig.lines(2, {"Kendall log sigma (s / 2)", "step", "log sigma", {}, {}, true},
                      {Series{"log sigma 1 (localisation)", steps, s1, Series::LinePoints},
                       Series{"log sigma 2 (calcium)", steps, s2, Series::LinePoints}});
        else
            fig.text(2, {"stage localisation: no Kendall weighting", "(log sigma is learnt in stage joint)"}, "log sigma");
        try {
            fig.save_png(figure_path_);
        } catch (const std::exception& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
    }

    const spotflow_host* host_;
    nlohmann::json params_;
    Settings s_;
    int threads_ = 1;
    nn::HybridNet net_{nullptr};
    std::unique_ptr<nn::LossBridge> loss_;
    std::unique_ptr<torch::optim::Optimizer> opt_;
    std::unique_ptr<nn::TrainingLoop> loop_;
    std::vector<Batch> validation_;
    std::vector<nlohmann::json> history_;
    nlohmann::json best_, last_, start_from_ = nullptr;
    std::string best_path_, final_path_, metrics_path_, card_path_, figure_path_;
    bool best_published_ = false;
    Clock::time_point started_ = Clock::now();
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Trainer>();
const spotflow_plugin_desc kDesc = {"train.hybrid", "1.0.0",
                                    "Trains the hybrid localisation + calcium network (seed 001) in stages on simulated two-channel windows",
                                    "trainer", nullptr, 0, 0, nullptr, kSchema, &kVtable, nullptr};

} // namespace
} // namespace train_hybrid

SPOTFLOW_EXPORT_PLUGINS(train_hybrid::kDesc);

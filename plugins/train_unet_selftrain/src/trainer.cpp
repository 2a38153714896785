// train.unet_selftrain: seed 002's self-training U-Net. Supervised training
// on the labelled pixels, then rounds of: predict the training images, turn
// confident predictions into pseudo-labels (1 above the positive threshold,
// 0 below the negative one, -1 = ignore between; the given positives stay 1),
// retrain; thresholds relaxed each round. Every stage is scored on a fixed
// 10 % validation split against the original ground truth (libs/seg), and
// writes model.pt, metrics.json and visualization.png under its folder.
// Network, training loop, augmentation and weights from libs/nn; the loss
// from a loss plugin (loss.focal_dice) through the loss bridge.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>
#include <torch/version.h>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin.h"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_nn/augment.hpp"
#include "spotflow_nn/loss_bridge.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/unet.hpp"
#include "spotflow_nn/weights.hpp"
#include "spotflow_plot/plot.hpp"
#include "spotflow_seg/seg.hpp"
#include "schema.json.hpp"

namespace unet_selftrain {

using spotflow::PluginError;
using Clock = std::chrono::steady_clock;
namespace nn = spotflow::nn;
namespace seg = spotflow::seg;

constexpr const char* kVersion = "1.0.0";

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Settings {
    int64_t initial_epochs = 30, iterations = 3, retrain_epochs = 10, batch = 16, figure_image = 0, min_blob_area = 5;
    double lr = 1e-3, weight_decay = 0, val_fraction = 0.1, threshold = 0.5, match_radius = 3;
    std::vector<double> pos, neg;
    bool adaptive = true, augment = true;
    uint64_t seed = 0;
    nn::UNetOptions net;
};

PluginError bad(const std::string& m) { return PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, m); }

Settings parse(const nlohmann::json& p, const spotflow_host* host) {
    Settings s;
    s.initial_epochs = p.value("initial_epochs", int64_t{30});
    s.iterations = p.value("self_training_iterations", int64_t{3});
    s.retrain_epochs = p.value("retrain_epochs", int64_t{10});
    s.batch = p.value("batch_size", int64_t{16});
    s.lr = p.value("learning_rate", 1e-3);
    s.weight_decay = p.value("weight_decay", 0.0);
    s.val_fraction = p.value("validation_fraction", 0.1);
    s.threshold = p.value("threshold", 0.5);
    s.match_radius = p.value("match_radius_px", 3.0);
    s.min_blob_area = p.value("min_blob_area", int64_t{5});
    s.figure_image = p.value("figure_image", int64_t{0});
    s.adaptive = p.value("adaptive_thresholds", true);
    s.augment = p.value("augment", true);
    s.pos = p.value("pos_thresholds", std::vector<double>{0.95, 0.93, 0.91});
    s.neg = p.value("neg_thresholds", std::vector<double>{0.05, 0.07, 0.09});
    if (s.initial_epochs < 1 || s.retrain_epochs < 1 || s.batch < 1 || s.iterations < 0 || !(s.lr > 0))
        throw bad("params initial_epochs, retrain_epochs, batch_size, learning_rate must be positive");
    // The schedule: one pair per round, strict to relaxed.
    if (s.pos.size() != s.neg.size())
        throw bad("params pos_thresholds and neg_thresholds differ in length (" + std::to_string(s.pos.size()) + " and " +
                  std::to_string(s.neg.size()) + ")");
    const size_t need = s.adaptive ? static_cast<size_t>(s.iterations) : std::min<size_t>(1, static_cast<size_t>(s.iterations));
    if (s.pos.size() < need)
        throw bad("param pos_thresholds has " + std::to_string(s.pos.size()) + " entries for " + std::to_string(s.iterations) +
                  " self-training iterations");
    for (size_t k = 0; k < s.pos.size(); ++k) {
        const std::string at = "threshold schedule entry " + std::to_string(k) + " (pos " + std::to_string(s.pos[k]) + ", neg " +
                               std::to_string(s.neg[k]) + ")";
        if (!(s.pos[k] > 0 && s.pos[k] < 1 && s.neg[k] > 0 && s.neg[k] < 1)) throw bad(at + ": thresholds must lie in (0, 1)");
        if (!(s.neg[k] < s.pos[k])) throw bad(at + ": neg must be below pos");
        if (k > 0 && !(s.pos[k] < s.pos[k - 1])) throw bad(at + ": pos must fall from round to round (strict to relaxed)");
        if (k > 0 && !(s.neg[k] > s.neg[k - 1])) throw bad(at + ": neg must rise from round to round (strict to relaxed)");
    }
    const int64_t seed = p.value("seed", int64_t{-1});
    s.seed = seed >= 0 ? static_cast<uint64_t>(seed) : host->seed(host) >> 1;
    nlohmann::json nj = {{"in_channels", 1}, {"out_channels", 1}, {"base_channels", 16}, {"depth", 2}, {"convs_per_level", 2},
                         {"activation", "relu"}, {"downsample", "max_pool"}, {"norm", "batch"}};
    const nlohmann::json user_net = p.value("network", nlohmann::json::object());
    for (const auto& [k, v] : user_net.items()) {
        if (!nj.contains(k) || k == "in_channels" || k == "out_channels") throw bad("param 'network." + k + "' is unknown");
        nj[k] = v;
    }
    try {
        s.net = nn::UNetOptions::from_json(nj);
    } catch (const std::exception& e) {
        throw bad(std::string("param 'network': ") + e.what());
    }
    return s;
}

// A port's N x H x W tensors, gathered.
struct Stack {
    int64_t n = 0, h = 0, w = 0;
    std::vector<float> data;
};

void append(Stack& s, const DLTensor& t, const char* port, bool is_mask) {
    if (t.device.device_type != kDLCPU) throw bad(std::string("input '") + port + "' is not on the CPU");
    if (t.ndim != 3 && t.ndim != 2)
        throw bad(std::string("input '") + port + "' has shape " + spotflow::shape_name(t) + ", expected N x H x W");
    const int64_t n = t.ndim == 3 ? t.shape[0] : 1, h = t.shape[t.ndim - 2], w = t.shape[t.ndim - 1];
    if (s.n && (h != s.h || w != s.w))
        throw bad(std::string("input '") + port + "': images of " + std::to_string(w) + " x " + std::to_string(h) +
                  " px after " + std::to_string(s.w) + " x " + std::to_string(s.h) + " px (all images must have one size)");
    if (is_mask && t.dtype.code == kDLFloat) throw bad(std::string("input '") + port + "' is " + spotflow::dtype_name(t.dtype) + ", a mask must be integer");
    s.h = h;
    s.w = w;
    const int64_t count = n * h * w;
    const size_t base = s.data.size();
    s.data.resize(base + static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
        const double v = spotflow::element_as_double(t, i);
        if (is_mask) {
            if (v < -1) throw bad(std::string("input '") + port + "': label " + std::to_string(static_cast<int64_t>(v)) + " at image " +
                                  std::to_string(s.n + i / (h * w)) + " (allowed: -1 ignore, 0 background, >= 1 foreground)");
            s.data[base + static_cast<size_t>(i)] = v >= 1 ? 1.0f : static_cast<float>(v);
        } else {
            if (!std::isfinite(v)) throw bad(std::string("input '") + port + "': pixel " + std::to_string(i % (h * w)) + " of image " +
                                             std::to_string(s.n + i / (h * w)) + " is not finite");
            s.data[base + static_cast<size_t>(i)] = static_cast<float>(v);
        }
    }
    s.n += n;
}

struct Scores {
    seg::PixelScores pixel;
    double auc = NAN;
    seg::PointMatch particles;
    int64_t n_images = 0;
};

class Trainer {
public:
    static constexpr const char* kContext = "train.unet_selftrain";

    Trainer(const spotflow_host* host, const char* params_json) : host_(host) {
        params_ = nlohmann::json::parse(params_json);
        s_ = parse(params_, host);
        threads_ = std::max(1, host->threads(host));
        nn::set_threads(threads_);
        try {
            loss_ = std::make_unique<nn::LossBridge>(host, params_.value("loss", std::string("loss.focal_dice")),
                                                      params_.value("loss_params", nlohmann::json::object()));
        } catch (const nn::LossNotCreated& e) {
            throw PluginError(e.status, std::string("the loss plugin: ") + e.what());
        }
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter*) {
        if (packet.kind != SPOTFLOW_DATA_TENSOR || !packet.tensor) throw bad("expected tensor packets");
        const DLTensor& t = packet.tensor->dl_tensor;
        if (in.port == 0) append(images_, t, "images", false);
        else if (in.port == 1) append(labels_, t, "labels", true);
        else append(truth_, t, "truth", true);
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out);

private:
    std::string claim(const std::string& name) {
        char buf[4096];
        const spotflow_status st = host_->output_path(host_, name.c_str(), buf, sizeof buf);
        if (st != SPOTFLOW_OK) throw PluginError(st, "cannot write output '" + name + "'");
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(buf).parent_path(), ec);
        return buf;
    }
    void publish(const std::string& name) {
        if (host_->abi.minor >= 1 && host_->publish_output) host_->publish_output(host_, name.c_str());
    }
    void check_inputs();
    torch::Tensor batch_images(const std::vector<int64_t>& idx) const;
    torch::Tensor predict(const std::vector<int64_t>& idx); // probabilities, n x H x W
    void train(int64_t epochs, const std::string& stage_dir);
    Scores validate();
    nlohmann::json pseudo_label(double pos, double neg);
    void figure(const std::string& path, const std::string& stage, const nlohmann::json& entry);
    nlohmann::json network_config() const;
    nlohmann::json card(const std::string& stage, const nlohmann::json& metrics) const;

    const spotflow_host* host_;
    nlohmann::json params_;
    Settings s_;
    int threads_ = 1;
    std::unique_ptr<nn::LossBridge> loss_;
    Stack images_, labels_, truth_;
    int64_t h_ = 0, w_ = 0, ph_ = 0, pw_ = 0; // image and padded size
    torch::Tensor x_;       // N x 1 x pH x pW, standardised, padded
    torch::Tensor given_;   // N x H x W float: the input labels (1, 0, -1)
    torch::Tensor current_; // N x H x W float: this stage's training labels
    torch::Tensor val_truth_; // Nval x H x W int8: what validation scores against
    std::vector<int64_t> train_idx_, val_idx_;
    bool has_truth_ = false;
    nn::UNet net_{nullptr};
    std::unique_ptr<torch::optim::Adam> opt_;
    std::mt19937_64 rng_;
    Clock::time_point started_;
};

void Trainer::check_inputs() {
    if (images_.n == 0) throw bad("input 'images' is empty");
    if (labels_.n != images_.n || labels_.h != images_.h || labels_.w != images_.w)
        throw bad("input 'labels' holds " + std::to_string(labels_.n) + " masks of " + std::to_string(labels_.w) + " x " +
                  std::to_string(labels_.h) + " px for " + std::to_string(images_.n) + " images of " + std::to_string(images_.w) +
                  " x " + std::to_string(images_.h) + " px");
    has_truth_ = truth_.n > 0;
    if (has_truth_ && (truth_.n != images_.n || truth_.h != images_.h || truth_.w != images_.w))
        throw bad("input 'truth' holds " + std::to_string(truth_.n) + " masks for " + std::to_string(images_.n) + " images");
    if (std::none_of(labels_.data.begin(), labels_.data.end(), [](float v) { return v == 1.0f; }))
        throw bad("input 'labels' has no foreground pixel: an empty label set cannot be trained on");
    if (images_.n < 2) throw bad("need at least 2 images (one for validation)");
}

torch::Tensor Trainer::batch_images(const std::vector<int64_t>& idx) const {
    return x_.index_select(0, torch::tensor(idx, torch::kLong));
}

torch::Tensor Trainer::predict(const std::vector<int64_t>& idx) {
    torch::NoGradGuard ng;
    net_->eval();
    std::vector<torch::Tensor> parts;
    for (size_t b = 0; b < idx.size(); b += 32) {
        const std::vector<int64_t> chunk(idx.begin() + static_cast<std::ptrdiff_t>(b),
                                         idx.begin() + static_cast<std::ptrdiff_t>(std::min(idx.size(), b + 32)));
        parts.push_back(torch::sigmoid(net_->forward(batch_images(chunk))).slice(2, 0, h_).slice(3, 0, w_).squeeze(1));
    }
    return torch::cat(parts, 0).contiguous();
}

void Trainer::train(int64_t epochs, const std::string& stage_dir) {
    const int64_t steps_per_epoch = (static_cast<int64_t>(train_idx_.size()) + s_.batch - 1) / s_.batch;
    nn::LoopOptions lo;
    lo.iterations = epochs * steps_per_epoch;
    lo.validate_every = std::max<int64_t>(1, lo.iterations / 4);
    nn::TrainingLoop loop(lo, *opt_, nn::Schedule());
    loop.open_log(claim(stage_dir + "/training_log.jsonl"));
    std::vector<int64_t> order = train_idx_;
    nn::AugmentOptions ao;
    ao.rotations = h_ == w_;
    ao.gain_min = 0.8;
    ao.gain_max = 1.25;
    ao.offset_min = -0.2;
    ao.offset_max = 0.2;
    nn::LoopHooks hooks;
    hooks.train_step = [&](int64_t step) {
        const int64_t k = step % steps_per_epoch;
        if (k == 0) std::shuffle(order.begin(), order.end(), rng_);
        const auto first = order.begin() + static_cast<std::ptrdiff_t>(k * s_.batch);
        const std::vector<int64_t> idx(first, first + std::min<std::ptrdiff_t>(s_.batch, order.end() - first));
        torch::Tensor x = batch_images(idx);
        torch::Tensor y = torch::full({static_cast<int64_t>(idx.size()), 1, ph_, pw_}, -1.0f);
        y.slice(2, 0, h_).slice(3, 0, w_).copy_(current_.index_select(0, torch::tensor(idx, torch::kLong)).unsqueeze(1));
        if (s_.augment) {
            std::vector<torch::Tensor> xs, ys;
            for (size_t i = 0; i < idx.size(); ++i) {
                const nn::Augmentation a = nn::draw_augmentation(ao, rng_);
                xs.push_back(a.photometric.apply(a.geometric.apply(x[static_cast<int64_t>(i)])));
                ys.push_back(a.geometric.apply(y[static_cast<int64_t>(i)]));
            }
            x = torch::stack(xs);
            y = torch::stack(ys);
        }
        net_->train();
        const torch::Tensor mask = (y != -1.0f).to(torch::kFloat32);
        loss_->set_step(step);
        const double l = loss_->backward(net_->forward(x), {y.contiguous()}, mask);
        return l;
    };
    hooks.validate = [&](int64_t) {
        const Scores sc = validate();
        nlohmann::json j = {{"f1", sc.pixel.f1}, {"precision", sc.pixel.precision}, {"recall", sc.pixel.recall}};
        for (const auto& [name, value] : loss_->components()) j["loss_" + name] = value;
        return j;
    };
    hooks.cancelled = [&] { return host_->is_cancelled(host_) != 0; };
    while (!loop.finished()) {
        const nlohmann::json v = loop.advance(hooks);
        if (v.empty() || host_->is_cancelled(host_)) throw PluginError(SPOTFLOW_ERR_CANCELLED, "cancelled");
    }
}

Scores Trainer::validate() {
    const torch::Tensor prob = predict(val_idx_);
    const float* p = prob.data_ptr<float>();
    const int8_t* t = val_truth_.data_ptr<int8_t>();
    const size_t n = static_cast<size_t>(prob.numel());
    Scores sc;
    sc.n_images = static_cast<int64_t>(val_idx_.size());
    sc.pixel = seg::scores(seg::confusion(p, static_cast<float>(s_.threshold), t, n));
    sc.auc = seg::roc_auc(p, t, n);
    // Particles: centres of the predicted blobs against centres of the true ones.
    seg::Points pred, truth;
    const size_t px = static_cast<size_t>(h_ * w_);
    for (size_t i = 0; i < val_idx_.size(); ++i) {
        for (const seg::Blob& b : seg::blob_centres(p + i * px, static_cast<int32_t>(w_), static_cast<int32_t>(h_),
                                                    static_cast<float>(s_.threshold), s_.min_blob_area)) {
            pred.image.push_back(static_cast<int64_t>(i));
            pred.x.push_back(b.x);
            pred.y.push_back(b.y);
        }
        std::vector<uint8_t> m(px);
        for (size_t k = 0; k < px; ++k) m[k] = t[i * px + k] == 1;
        for (const seg::Blob& b : seg::blobs(seg::label_components(m.data(), static_cast<int32_t>(w_), static_cast<int32_t>(h_)))) {
            truth.image.push_back(static_cast<int64_t>(i));
            truth.x.push_back(b.x);
            truth.y.push_back(b.y);
        }
    }
    sc.particles = seg::match_points(pred, truth, s_.match_radius);
    return sc;
}

nlohmann::json Trainer::pseudo_label(double pos, double neg) {
    const torch::Tensor prob = predict(train_idx_);
    const float* p = prob.data_ptr<float>();
    const size_t px = static_cast<size_t>(h_ * w_);
    float* cur = current_.data_ptr<float>();
    const float* given = given_.data_ptr<float>();
    const float* truth = has_truth_ ? truth_.data.data() : nullptr;
    int64_t n_pos = 0, n_neg = 0, n_ign = 0, recovered = 0, recovered_true = 0, pos_true = 0, truth_pos_unlabelled = 0;
    for (size_t i = 0; i < train_idx_.size(); ++i) {
        const size_t img = static_cast<size_t>(train_idx_[i]);
        for (size_t k = 0; k < px; ++k) {
            const size_t at = img * px + k;
            const float g = given[at];
            float v;
            if (g == 1.0f) v = 1.0f;           // a given positive stays positive
            else if (g == -1.0f) v = -1.0f;    // so does a given ignore
            else v = p[i * px + k] > pos ? 1.0f : p[i * px + k] < neg ? 0.0f : -1.0f;
            cur[at] = v;
            n_pos += v == 1.0f;
            n_neg += v == 0.0f;
            n_ign += v == -1.0f;
            if (truth) {
                const bool t = truth[at] == 1.0f;
                pos_true += v == 1.0f && t;
                if (g == 0.0f && t) ++truth_pos_unlabelled;
                if (v == 1.0f && g == 0.0f) {
                    ++recovered;
                    recovered_true += t;
                }
            }
        }
    }
    if (n_neg == 0 || n_pos == 0) {
        char w[256];
        std::snprintf(w, sizeof w, "train.unet_selftrain: the pseudo-labels at %.2f/%.2f hold no %s pixel: the model is not confident "
                      "enough yet (train longer before self-training); retraining on them will bias it", pos, neg, n_neg ? "positive" : "negative");
        host_->log(host_, SPOTFLOW_LOG_WARNING, w);
    }
    nlohmann::json j = {{"pos_threshold", pos}, {"neg_threshold", neg}, {"positive_pixels", n_pos}, {"negative_pixels", n_neg},
                        {"ignored_pixels", n_ign}, {"recovered_positive_pixels", recovered}};
    if (truth) {
        j["recovered_precision"] = recovered ? static_cast<double>(recovered_true) / static_cast<double>(recovered) : NAN;
        j["recovered_recall"] = truth_pos_unlabelled ? static_cast<double>(recovered_true) / static_cast<double>(truth_pos_unlabelled) : NAN;
        j["positive_precision"] = n_pos ? static_cast<double>(pos_true) / static_cast<double>(n_pos) : NAN;
    }
    return j;
}

// The weights' network description, in the form segment.unet reads
// (libs/nn SegNetwork: task, unet, normalisation, threshold), so a stage's
// model.pt or final_model.pt segments new images with segment.unet.
nlohmann::json Trainer::network_config() const {
    return {{"task", "segmentation"}, {"unet", s_.net.to_json()}, {"normalisation", "image_mean_std"}, {"threshold", s_.threshold}};
}

nlohmann::json Trainer::card(const std::string& stage, const nlohmann::json& metrics) const {
    int64_t n_params = 0;
    for (const auto& p : net_->parameters()) n_params += p.numel();
    return {{"model", "train.unet_selftrain U-Net (" + stage + ")"},
            {"trainer", std::string("train.unet_selftrain ") + kVersion},
            {"recipe", params_.value("recipe", std::string())},
            {"params", params_},
            {"network", {{"unet", s_.net.to_json()}, {"parameters", n_params}}},
            {"input", {{"normalisation", "per image: (x - mean) / std"}, {"padding", "zeros to a multiple of 2^depth, right and bottom"},
                       {"output", "logit; probability = sigmoid"}}},
            {"data", {{"images", images_.n}, {"width", w_}, {"height", h_}, {"train_images", train_idx_.size()},
                      {"validation_images", val_idx_.size()}, {"truth", has_truth_ ? "full truth input" : "the input labels"}}},
            {"metrics", metrics},
            {"threads", threads_},
            {"training_time_s", std::chrono::duration<double>(Clock::now() - started_).count()},
            {"libtorch", TORCH_VERSION}};
}

void Trainer::figure(const std::string& path, const std::string& stage, const nlohmann::json& entry) {
    namespace plot = spotflow::plot;
    const int64_t img = train_idx_[static_cast<size_t>(std::min<int64_t>(s_.figure_image, static_cast<int64_t>(train_idx_.size()) - 1))];
    const size_t px = static_cast<size_t>(h_ * w_);
    const torch::Tensor raw = x_[img][0].slice(0, 0, h_).slice(1, 0, w_).contiguous();
    const torch::Tensor prob = predict({img});
    std::vector<float> gt(px), pseudo(px);
    const float* tr = has_truth_ ? truth_.data.data() + static_cast<size_t>(img) * px : given_.data_ptr<float>() + static_cast<size_t>(img) * px;
    const float* cur = current_.data_ptr<float>() + static_cast<size_t>(img) * px;
    for (size_t k = 0; k < px; ++k) {
        gt[k] = tr[k] == 1.0f ? 1.0f : tr[k] == -1.0f ? 0.5f : 0.0f;
        pseudo[k] = cur[k] == 1.0f ? 1.0f : cur[k] == -1.0f ? 0.5f : 0.0f;
    }
    const int scale = static_cast<int>(std::max<int64_t>(1, 512 / std::max(w_, h_)));
    plot::Overlay a(raw.data_ptr<float>(), static_cast<int>(w_), static_cast<int>(h_), scale);
    const plot::Overlay::ColourScale grey{0, 1, plot::Colormap::Grey, false, "", 0};
    plot::Overlay b(gt.data(), static_cast<int>(w_), static_cast<int>(h_), scale, grey);
    plot::Overlay c(pseudo.data(), static_cast<int>(w_), static_cast<int>(h_), scale, grey);
    plot::Overlay d(prob.data_ptr<float>(), static_cast<int>(w_), static_cast<int>(h_), scale,
                    plot::Overlay::ColourScale{0, 1, plot::Colormap::Viridis, true, "probability", 96});
    char sup[256];
    std::snprintf(sup, sizeof sup, "%s   validation F1 %.3f  IoU %.3f  AUC %.3f   (training image %lld)", stage.c_str(),
                  entry.value("f1_score", 0.0), entry.value("iou", 0.0), entry.value("auc", 0.0), static_cast<long long>(img));
    // 16 x 4.3 inches at 150 dpi.
    plot::Figure fig(2400, 640, 1, 4, sup);
    fig.image(0, a, "Input");
    fig.image(1, b, has_truth_ ? "Ground truth (all particles)" : "Ground truth (labels)");
    fig.image(2, c, stage == "iteration_0_supervised" ? "Training labels (grey: ignored)" : "Pseudo-label (grey: ignored)");
    fig.image(3, d, "Prediction");
    fig.save_png(path);
}

spotflow_status Trainer::finish(const spotflow_emitter* out) {
    started_ = Clock::now();
    check_inputs();
    h_ = images_.h;
    w_ = images_.w;
    const int64_t m = s_.net.size_multiple(), n = images_.n;
    ph_ = (h_ + m - 1) / m * m;
    pw_ = (w_ + m - 1) / m * m;
    // Standardise each image, pad with zeros (the mean) to the network's multiple.
    x_ = torch::zeros({n, 1, ph_, pw_});
    const torch::Tensor raw = torch::from_blob(images_.data.data(), {n, h_, w_}, torch::kFloat32);
    for (int64_t i = 0; i < n; ++i) {
        const torch::Tensor im = raw[i];
        const double mean = im.mean().item<double>(), sd = im.std().item<double>();
        x_[i][0].slice(0, 0, h_).slice(1, 0, w_).copy_((im - mean) / (sd > 0 ? sd : 1.0));
    }
    given_ = torch::from_blob(labels_.data.data(), {n, h_, w_}, torch::kFloat32).clone();
    current_ = given_.clone();
    // The fixed split.
    rng_.seed(s_.seed ^ 0x5e1f7a11u);
    std::vector<int64_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng_);
    const int64_t n_val = std::clamp<int64_t>(static_cast<int64_t>(std::lround(s_.val_fraction * static_cast<double>(n))), 1, n - 1);
    val_idx_.assign(all.begin(), all.begin() + n_val);
    train_idx_.assign(all.begin() + n_val, all.end());
    std::sort(val_idx_.begin(), val_idx_.end());
    std::sort(train_idx_.begin(), train_idx_.end());
    const size_t px = static_cast<size_t>(h_ * w_);
    val_truth_ = torch::empty({n_val, h_, w_}, torch::kInt8);
    const float* vt = has_truth_ ? truth_.data.data() : labels_.data.data();
    int8_t* vd = val_truth_.data_ptr<int8_t>();
    for (size_t i = 0; i < val_idx_.size(); ++i)
        for (size_t k = 0; k < px; ++k) vd[i * px + k] = static_cast<int8_t>(vt[static_cast<size_t>(val_idx_[i]) * px + k]);
    if (!has_truth_)
        host_->log(host_, SPOTFLOW_LOG_WARNING,
                   "train.unet_selftrain: no 'truth' input: validation scores against the given labels, whose unlabelled "
                   "particles count as background, and the pseudo-labels' precision cannot be measured");

    nn::seed_everything(s_.seed);
    net_ = nn::UNet(s_.net);
    opt_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(s_.lr).weight_decay(s_.weight_decay));

    nlohmann::json summary = nlohmann::json::array();
    spotflow::TableBuilder tb;
    const auto c_stage = tb.add_column("stage", spotflow::ColumnType::Utf8);
    const char* const num_cols[] = {"precision", "recall", "f1_score", "iou", "auc", "particle_precision", "particle_recall",
                                    "particle_f1", "pseudo_recovered_precision", "training_time_s"};
    std::vector<size_t> cols;
    for (const char* c : num_cols) cols.push_back(tb.add_column(c, spotflow::ColumnType::Float64));
    const int64_t total_epochs = s_.initial_epochs + s_.iterations * s_.retrain_epochs;
    int64_t epochs_done = 0;
    for (int64_t it = 0; it <= s_.iterations; ++it) {
        const std::string stage = it == 0 ? "iteration_0_supervised" : "iteration_" + std::to_string(it) + "_selftrain";
        nlohmann::json pseudo;
        if (it > 0) {
            const size_t k = s_.adaptive ? static_cast<size_t>(it - 1) : 0;
            pseudo = pseudo_label(s_.pos[k], s_.neg[k]);
        }
        const int64_t epochs = it == 0 ? s_.initial_epochs : s_.retrain_epochs;
        train(epochs, stage);
        epochs_done += epochs;
        host_->progress(host_, epochs_done, total_epochs);
        const Scores sc = validate();
        // The seed's keys, exactly, for the top-level list.
        const nlohmann::json entry = {{"stage", stage}, {"precision", sc.pixel.precision}, {"recall", sc.pixel.recall},
                                      {"f1_score", sc.pixel.f1}, {"iou", sc.pixel.iou}, {"auc", sc.auc},
                                      {"num_val_samples", sc.n_images}, {"num_pixels_evaluated", sc.pixel.n_valid}};
        summary.push_back(entry);
        nlohmann::json detail = entry;
        detail["particle"] = {{"precision", sc.particles.precision}, {"recall", sc.particles.recall}, {"f1", sc.particles.f1},
                              {"tp", sc.particles.tp}, {"fp", sc.particles.fp}, {"fn", sc.particles.fn},
                              {"match_radius_px", s_.match_radius}};
        if (!pseudo.is_null()) detail["pseudo_labels"] = pseudo;
        detail["epochs"] = epochs;
        detail["scored_against"] = has_truth_ ? "truth" : "labels";
        detail["training_time_s"] = std::chrono::duration<double>(Clock::now() - started_).count();
        // Outputs of the stage, each published as soon as it is written.
        const std::string model = stage + "/model.pt";
        nn::save_weights(claim(model), network_config(), *net_, card(stage, detail));
        publish(model);
        {
            const std::string name = stage + "/metrics.json";
            std::ofstream f(claim(name), std::ios::trunc);
            f << detail.dump(2) << "\n";
            if (!f) throw PluginError(SPOTFLOW_ERR_IO, "cannot write " + name);
            f.close();
            publish(name);
        }
        figure(claim(stage + "/visualization.png"), stage, entry);
        publish(stage + "/visualization.png");
        {
            std::ofstream f(claim("metrics.json"), std::ios::trunc);
            f << summary.dump(2) << "\n";
            if (!f) throw PluginError(SPOTFLOW_ERR_IO, "cannot write metrics.json");
            f.close();
            publish("metrics.json");
        }
        tb.append_string(c_stage, stage);
        const double vals[] = {sc.pixel.precision, sc.pixel.recall, sc.pixel.f1, sc.pixel.iou, sc.auc, sc.particles.precision,
                               sc.particles.recall, sc.particles.f1,
                               pseudo.is_null() ? NAN : pseudo.value("recovered_precision", static_cast<double>(NAN)),
                               detail["training_time_s"].get<double>()};
        for (size_t k = 0; k < cols.size(); ++k) tb.append_double(cols[k], vals[k]);
        char line[320];
        std::snprintf(line, sizeof line, "train.unet_selftrain: %s  pixel P %.4f R %.4f F1 %.4f IoU %.4f AUC %.4f  particle F1 %.4f%s",
                      stage.c_str(), sc.pixel.precision, sc.pixel.recall, sc.pixel.f1, sc.pixel.iou, sc.auc, sc.particles.f1,
                      pseudo.is_null() || !pseudo.contains("recovered_precision") ? ""
                          : ("  pseudo-label precision " + std::to_string(pseudo["recovered_precision"].get<double>())).c_str());
        host_->log(host_, SPOTFLOW_LOG_INFO, line);
    }
    nn::save_weights(claim("final_model.pt"), network_config(), *net_, card("final", summary.back()));
    publish("final_model.pt");
    spotflow_packet pk{};
    pk.kind = SPOTFLOW_DATA_TABLE;
    pk.info = {0, 1, 1, 0, 0, 0, 0};
    tb.finish(&pk.schema, &pk.array);
    return out->emit(out, 0, &pk);
}

const spotflow_node_vtable kVtable = spotflow::node_vtable<Trainer>();

const spotflow_port_desc kInputs[] = {
    {"images", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_WHOLE_STREAM, "The images, N x H x W (one frame per image), any numeric dtype"},
    {"labels", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_WHOLE_STREAM,
     "The (partial) labels, N x H x W integer: >= 1 particle, 0 background, -1 ignore"},
    {"truth", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "Full truth for scoring (simulations); without it validation scores against the labels"},
};
const spotflow_port_desc kOutputs[] = {
    {"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL, "One row per stage: pixel, particle and pseudo-label scores"},
};

const spotflow_plugin_desc kDesc = {"train.unet_selftrain", kVersion,
                                    "Self-training U-Net on partial labels with pseudo-labels and relaxing thresholds (seed 002)",
                                    "trainer", kInputs, 3, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace unet_selftrain

SPOTFLOW_EXPORT_PLUGINS(unet_selftrain::kDesc);

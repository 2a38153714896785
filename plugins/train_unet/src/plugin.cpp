// train.unet: seed 003's training of a segmentation U-Net on a few large
// labelled images: every epoch `patches_per_image` random patches per
// training image (a share of them centred on foreground), flips, quarter
// turns and brightness/contrast augmentation, a loss plugin (loss.bce) through
// libs/nn's loss bridge, Adam with reduce-on-plateau on the validation Dice,
// validation on whole images through segment.unet's tiled prediction, the
// best model by validation Dice and a checkpoint every N epochs, each
// published as it is written, a config snapshot, a per-epoch metrics log and
// the training-curve figure; resumes from a checkpoint.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>
#include <torch/version.h>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "spotflow_imageset/imageset.hpp"
#include "spotflow_nn/augment.hpp"
#include "spotflow_nn/loss_bridge.hpp"
#include "spotflow_nn/segment.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/weights.hpp"
#include "spotflow_plot/plot.hpp"
#include "spotflow_seg/seg.hpp"
#include "tiffio/image.hpp"
#include "schema.json.hpp"

namespace train_unet {
namespace {

using spotflow::PluginError;
namespace nn = spotflow::nn;
namespace is = spotflow::imageset;
using Clock = std::chrono::steady_clock;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Settings {
    int64_t epochs, ppi, patch, batch, checkpoint_every, plateau_patience, max_val, tile;
    double fg_fraction, lr, wd, plateau_factor, min_lr_factor, brightness, contrast, threshold;
    bool augment;
    std::string validation, init_weights, resume, folder, figure, loss;
    nlohmann::json network, loss_params, params;
    uint64_t seed;
};

struct Sample {
    std::vector<float> x;     // normalised image
    std::vector<float> y;     // 0/1
    std::vector<float> valid; // 0 = ignore (-1 in the mask)
    std::vector<int64_t> fg;  // foreground pixel indices (for centred patches)
    std::vector<int8_t> truth;
    int64_t w = 0, h = 0;
    std::string stem;
};

struct Patch {
    size_t image;
    int64_t x0, y0;
    nn::Augmentation aug;
};

class Trainer {
public:
    static constexpr const char* kContext = "train.unet";

    Trainer(const spotflow_host* host, const char* params_json) : host_(host) {
        s_ = spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            Settings s;
            s.params = j;
            s.epochs = j.at("epochs");
            s.ppi = j.at("patches_per_image");
            s.patch = j.at("patch_size");
            s.fg_fraction = j.at("foreground_fraction");
            s.batch = j.at("batch_size");
            s.lr = j.at("learning_rate");
            s.wd = j.at("weight_decay");
            s.plateau_factor = j.at("plateau_factor");
            s.plateau_patience = j.at("plateau_patience");
            s.min_lr_factor = j.at("min_lr_factor");
            s.checkpoint_every = j.at("checkpoint_every");
            s.augment = j.at("augment");
            s.brightness = j.at("brightness");
            s.contrast = j.at("contrast");
            s.network = j.at("network");
            s.loss = j.at("loss");
            s.loss_params = j.at("loss_params");
            s.validation = j.at("validation");
            s.max_val = j.at("max_validation_images");
            s.tile = j.at("tile_size");
            s.threshold = j.at("threshold");
            s.init_weights = j.at("init_weights");
            s.resume = j.at("resume");
            const int64_t seed = j.at("seed");
            s.seed = seed >= 0 ? static_cast<uint64_t>(seed) : host->seed(host) >> 1;
            s.folder = j.at("folder");
            s.figure = j.at("figure");
            return s;
        });
        threads_ = std::max(1, host->threads(host));
        nn::set_threads(threads_);
        nn::seed_everything(s_.seed);
        // The network: the init weights' or the default with the user's overrides.
        if (!s_.init_weights.empty()) {
            try {
                nn::SegModel m = nn::load_seg_model(s_.init_weights);
                net_opts_ = m.network.unet;
                net_ = m.net;
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_IO, std::string("param 'init_weights': ") + e.what());
            }
        } else {
            nlohmann::json nj = nn::default_seg_unet().to_json();
            for (const auto& [k, v] : s_.network.items()) {
                if (!nj.contains(k) || k == "in_channels" || k == "out_channels")
                    throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'network." + k + "' is unknown");
                nj[k] = v;
            }
            try {
                net_opts_ = nn::UNetOptions::from_json(nj);
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("param 'network': ") + e.what());
            }
            net_ = nn::UNet(net_opts_);
        }
        const int64_t m = net_opts_.size_multiple();
        s_.patch = s_.patch / m * m;
        if (s_.patch < 2 * m) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("param 'patch_size' must be at least {}", 2 * m));
        try {
            loss_ = std::make_unique<nn::LossBridge>(host, s_.loss, s_.loss_params);
        } catch (const nn::LossNotCreated& e) {
            throw PluginError(e.status, "param 'loss': the host refused '" + s_.loss + "'");
        }
        opt_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(s_.lr).weight_decay(s_.wd));
        // Resume: the checkpoint and its history must be readable now.
        if (!s_.resume.empty()) {
            const std::string side = std::filesystem::path(s_.resume).replace_extension(".json").string();
            std::ifstream f(side);
            if (!f) throw PluginError(SPOTFLOW_ERR_IO, "param 'resume': the checkpoint's history '" + side + "' is missing");
            try {
                const auto j = nlohmann::json::parse(f);
                history_ = j.at("history");
                resume_epoch_ = j.at("epoch");
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_FORMAT, "param 'resume': '" + side + "': " + e.what());
            }
        }
        best_name_ = rel("checkpoints/best_model.sfw");
        final_path_ = spotflow::output_path(host, rel("final_model.sfw"));
        metrics_path_ = spotflow::output_path(host, rel("metrics.jsonl"));
        metrics_csv_path_ = spotflow::output_path(host, rel("metrics.csv"));
        card_path_ = spotflow::output_path(host, rel("model_card.json"));
        if (!s_.figure.empty()) figure_path_ = spotflow::output_path(host, rel(s_.figure));
        started_ = Clock::now();
    }

    spotflow_status process(const spotflow_input&, const spotflow_packet& packet, const spotflow_emitter*) {
        if (packet.kind != SPOTFLOW_DATA_TABLE) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'images' takes an image_set table");
        try {
            for (auto& e : is::from_table(spotflow::TableView(packet.schema, packet.array))) entries_.push_back(std::move(e));
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, std::string("images table: ") + e.what());
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        load_data();
        setup_loop();
        write_config();
        while (!loop_->finished()) {
            nn::LoopHooks hooks;
            hooks.train_step = [&](int64_t step) {
                const double l = train_step(step);
                host_->progress(host_, step + 1, loop_->finished() ? step + 1 : total_steps_);
                return l;
            };
            hooks.validate = [&](int64_t step) { return validate(step); };
            hooks.on_best = [&](const nlohmann::json& v) {
                best_ = v;
                pending_best_ = true;
            };
            hooks.cancelled = [&] { return host_->is_cancelled(host_) != 0; };
            const nlohmann::json v = loop_->advance(hooks);
            if (v.empty() || host_->is_cancelled(host_)) return SPOTFLOW_ERR_CANCELLED;
            history_.push_back(v);
            const int64_t epoch = v.at("epoch");
            if (pending_best_) {
                save_best(epoch);
                pending_best_ = false;
            }
            host_->log(host_, SPOTFLOW_LOG_INFO,
                       fmt::format("train.unet: epoch {}/{}  loss {:.4f}  train Dice {:.4f}  val Dice {:.4f}  (best {:.4f} at epoch {})  lr {:.2e}  {:.0f} s",
                                   epoch, s_.epochs, v.value("epoch_loss", NAN), v.value("train_dice", NAN), v.value("val_dice", NAN),
                                   best_.value("val_dice", NAN), best_.value("epoch", 0), v.value("lr", NAN), elapsed()).c_str());
            if (s_.checkpoint_every > 0 && epoch % s_.checkpoint_every == 0) save_checkpoint(epoch);
        }
        nn::save_weights(final_path_, network_json(), *net_, card("final"));
        write_metrics_csv();
        if (!figure_path_.empty()) draw_figure();
        spotflow_csv::write_file(card_path_, card("best").dump(2) + "\n");
        // One row: the run's outcome.
        spotflow::TableBuilder b;
        const auto c_e = b.add_column("epochs", spotflow::ColumnType::Int64), c_be = b.add_column("best_epoch", spotflow::ColumnType::Int64),
                   c_bd = b.add_column("best_val_dice", spotflow::ColumnType::Float64),
                   c_fd = b.add_column("final_val_dice", spotflow::ColumnType::Float64),
                   c_t = b.add_column("training_time_s", spotflow::ColumnType::Float64);
        b.append_int(c_e, s_.epochs);
        b.append_int(c_be, best_.value("epoch", int64_t{0}));
        b.append_double(c_bd, best_.value("val_dice", NAN));
        b.append_double(c_fd, history_.empty() ? NAN : history_.back().value("val_dice", NAN));
        b.append_double(c_t, elapsed());
        return spotflow::emit_table(out, 0, b, spotflow::table_info());
    }

private:
    std::string rel(const std::string& name) const { return s_.folder.empty() ? name : s_.folder + "/" + name; }
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

    void load_data() {
        if (entries_.empty()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no images to train on (the image set is empty)");
        std::vector<is::Entry> train, val;
        for (const auto& e : entries_) {
            if (e.mask.empty()) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}' has no mask; train.unet needs every image labelled", e.image));
            if (e.split == "val") val.push_back(e);
            else if (e.split != "test") train.push_back(e);
        }
        if (train.empty()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no training images (every image is in the val or test split)");
        if (s_.validation == "val" && val.empty()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'validation' is val but no image is in the val split");
        const bool on_train = s_.validation == "train" || (s_.validation == "auto" && val.empty());
        if (on_train) host_->log(host_, SPOTFLOW_LOG_INFO, "train.unet: validating on the training images (no val split): the seed's production setting, a measure of fit, not of generalisation");
        for (const auto& e : train) train_.push_back(load(e));
        for (const auto& e : on_train ? train : val) {
            if (s_.max_val > 0 && static_cast<int64_t>(val_.size()) >= s_.max_val) break;
            val_.push_back(on_train ? train_[val_.size()] : load(e));
        }
        val_stems_.clear();
        for (const auto& v : val_) val_stems_.push_back(v.stem);
        for (const auto& t : train_) train_stems_.push_back(t.stem);
    }

    Sample load(const is::Entry& e) {
        tiffio::Image img = tiffio::read_image(host_, e.image);
        const int64_t m = net_opts_.size_multiple();
        if (img.width < 2 * m || img.height < 2 * m)
            throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}' is {} x {} px; at least {} a side", e.image, img.width, img.height, 2 * m));
        is::Mask mk = is::read_mask(host_, e.mask, is::MaskKind::Auto, img.width, img.height);
        Sample s;
        s.w = img.width;
        s.h = img.height;
        s.stem = e.stem;
        const int64_t n = s.w * s.h;
        s.x = nn::normalised(img.pixels.data(), n, nn::image_normalisation(img.pixels.data(), n));
        s.y.resize(static_cast<size_t>(n));
        s.valid.resize(static_cast<size_t>(n));
        s.truth.resize(static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) {
            const int32_t l = mk.labels[static_cast<size_t>(k)];
            s.y[static_cast<size_t>(k)] = l > 0 ? 1.0f : 0.0f;
            s.valid[static_cast<size_t>(k)] = l < 0 ? 0.0f : 1.0f;
            s.truth[static_cast<size_t>(k)] = static_cast<int8_t>(l < 0 ? -1 : l > 0 ? 1 : 0);
            if (l > 0) s.fg.push_back(k);
        }
        return s;
    }

    void setup_loop() {
        const int64_t n_patches = static_cast<int64_t>(train_.size()) * s_.ppi;
        steps_per_epoch_ = (n_patches + s_.batch - 1) / s_.batch;
        total_steps_ = steps_per_epoch_ * s_.epochs;
        nn::LoopOptions lo;
        lo.iterations = total_steps_;
        lo.validate_every = steps_per_epoch_;
        lo.best_by = {{"val_dice", true}};
        lo.plateau_metric = "val_dice";
        nn::ScheduleOptions so;
        so.kind = nn::ScheduleOptions::Plateau;
        so.factor = s_.plateau_factor;
        so.patience = s_.plateau_patience;
        so.min_factor = s_.min_lr_factor;
        so.maximise = true;
        loop_ = std::make_unique<nn::TrainingLoop>(lo, *opt_, nn::Schedule(so));
        try {
            loop_->open_log(metrics_path_);
            if (!s_.resume.empty()) {
                loop_->load_checkpoint(s_.resume, *net_);
                if (loop_->step() != resume_epoch_ * steps_per_epoch_)
                    throw std::runtime_error(fmt::format("checkpoint '{}' is at step {}, not epoch {} of this data ({} steps per epoch): another image set or batch size",
                                                         s_.resume, loop_->step(), resume_epoch_, steps_per_epoch_));
                if (loop_->best().has_best()) best_ = loop_->best().best();
                host_->log(host_, SPOTFLOW_LOG_INFO, fmt::format("train.unet: resuming after epoch {} from '{}'", resume_epoch_, s_.resume).c_str());
            }
        } catch (const std::exception& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
    }

    nlohmann::json network_json() const {
        nn::SegNetwork n;
        n.unet = net_opts_;
        n.threshold = s_.threshold;
        return n.to_json();
    }

    void write_config() {
        const std::string name = rel("config.json");
        const nlohmann::json cfg = {{"trainer", "train.unet 1.0.0"}, {"params", s_.params}, {"seed", s_.seed},
                                    {"network", network_json()}, {"train_images", train_stems_}, {"validation_images", val_stems_},
                                    {"steps_per_epoch", steps_per_epoch_}, {"threads", threads_}};
        spotflow_csv::write_file(spotflow::output_path(host_, name), cfg.dump(2) + "\n");
        publish(name);
    }

    void publish(const std::string& name) {
        if (host_->abi.minor < 1 || !host_->publish_output) return; // a 1.0 host: final at the end of the run
        if (const spotflow_status st = host_->publish_output(host_, name.c_str())) throw PluginError(st, "cannot publish '" + name + "'");
    }

    // The patches of one epoch: the same for a seed and epoch whatever the
    // thread count or a resume.
    void plan_epoch(int64_t epoch) {
        std::mt19937_64 rng(s_.seed * 1000003 + static_cast<uint64_t>(epoch) + 17);
        patches_.clear();
        nn::AugmentOptions ao;
        ao.flips = ao.rotations = s_.augment;
        if (s_.augment) {
            ao.gain_min = 1 / s_.contrast;
            ao.gain_max = s_.contrast;
            ao.offset_min = -s_.brightness;
            ao.offset_max = s_.brightness;
        }
        std::uniform_real_distribution<double> u(0, 1);
        for (size_t i = 0; i < train_.size(); ++i) {
            const Sample& t = train_[i];
            const int64_t pw = std::min(s_.patch, t.w / net_opts_.size_multiple() * net_opts_.size_multiple());
            const int64_t ph = std::min(s_.patch, t.h / net_opts_.size_multiple() * net_opts_.size_multiple());
            const int64_t p = std::min(pw, ph);
            for (int64_t k = 0; k < s_.ppi; ++k) {
                int64_t cx, cy;
                if (!t.fg.empty() && u(rng) < s_.fg_fraction) {
                    const int64_t f = t.fg[static_cast<size_t>(u(rng) * static_cast<double>(t.fg.size())) % t.fg.size()];
                    cx = f % t.w + static_cast<int64_t>((u(rng) - 0.5) * static_cast<double>(p) / 2);
                    cy = f / t.w + static_cast<int64_t>((u(rng) - 0.5) * static_cast<double>(p) / 2);
                } else {
                    cx = static_cast<int64_t>(u(rng) * static_cast<double>(t.w));
                    cy = static_cast<int64_t>(u(rng) * static_cast<double>(t.h));
                }
                Patch pt{i, std::clamp<int64_t>(cx - p / 2, 0, t.w - p), std::clamp<int64_t>(cy - p / 2, 0, t.h - p), {}};
                pt.aug = nn::draw_augmentation(ao, rng);
                patches_.push_back(pt);
            }
        }
        std::shuffle(patches_.begin(), patches_.end(), rng);
        planned_epoch_ = epoch;
        epoch_tp_ = epoch_fp_ = epoch_fn_ = epoch_loss_ = 0;
        epoch_steps_ = 0;
    }

    double train_step(int64_t step) {
        const int64_t epoch = step / steps_per_epoch_;
        if (epoch != planned_epoch_) plan_epoch(epoch);
        const int64_t first = (step % steps_per_epoch_) * s_.batch;
        const int64_t count = std::min<int64_t>(s_.batch, static_cast<int64_t>(patches_.size()) - first);
        int64_t p = s_.patch;
        for (int64_t b = 0; b < count; ++b) {
            const Sample& t = train_[patches_[static_cast<size_t>(first + b)].image];
            p = std::min({p, t.w / net_opts_.size_multiple() * net_opts_.size_multiple(), t.h / net_opts_.size_multiple() * net_opts_.size_multiple()});
        }
        std::vector<torch::Tensor> xs, ys, ms;
        for (int64_t b = 0; b < count; ++b) {
            const Patch& pt = patches_[static_cast<size_t>(first + b)];
            const Sample& t = train_[pt.image];
            const auto crop = [&](const std::vector<float>& src) {
                torch::Tensor c = torch::empty({1, p, p});
                float* d = c.data_ptr<float>();
                for (int64_t y = 0; y < p; ++y) std::copy_n(src.data() + (pt.y0 + y) * t.w + pt.x0, p, d + y * p);
                return pt.aug.geometric.apply(c);
            };
            xs.push_back(pt.aug.photometric.apply(crop(t.x)));
            ys.push_back(crop(t.y));
            ms.push_back(crop(t.valid));
        }
        const torch::Tensor x = torch::stack(xs).contiguous(), y = torch::stack(ys).contiguous(), m = torch::stack(ms).contiguous();
        net_->train();
        const torch::Tensor logits = net_->forward(x);
        loss_->set_step(step);
        const double l = loss_->backward(logits, {y}, m);
        epoch_loss_ += l;
        ++epoch_steps_;
        {
            torch::NoGradGuard ng;
            const torch::Tensor pred = (logits.detach() >= std::log(s_.threshold / (1 - s_.threshold))).to(torch::kFloat32) * m;
            const torch::Tensor yt = y * m;
            epoch_tp_ += (pred * yt).sum().item<double>();
            epoch_fp_ += (pred * (1 - yt) * m).sum().item<double>();
            epoch_fn_ += ((1 - pred) * yt).sum().item<double>();
        }
        return l;
    }

    nlohmann::json validate(int64_t step) {
        spotflow::seg::Confusion c;
        double mean_dice = 0;
        nn::TileOptions to;
        to.tile = s_.tile;
        for (const Sample& v : val_) {
            const nn::TilePlan plan = nn::plan_tiles(v.w, v.h, net_opts_, to);
            std::vector<float> prob(static_cast<size_t>(v.w * v.h));
            nn::predict_tiled(net_, v.x.data(), v.w, v.h, plan, prob.data());
            const auto ci = spotflow::seg::confusion(prob.data(), static_cast<float>(s_.threshold), v.truth.data(), prob.size());
            mean_dice += spotflow::seg::scores(ci).dice / static_cast<double>(val_.size());
            c += ci;
        }
        const auto sc = spotflow::seg::scores(c);
        const double td = 2 * epoch_tp_ + epoch_fp_ + epoch_fn_ > 0 ? 2 * epoch_tp_ / (2 * epoch_tp_ + epoch_fp_ + epoch_fn_) : 0;
        return {{"epoch", (step + steps_per_epoch_ - 1) / steps_per_epoch_}, {"epoch_loss", epoch_steps_ ? epoch_loss_ / static_cast<double>(epoch_steps_) : NAN}, {"train_dice", td}, {"val_dice", sc.dice},
                {"val_iou", sc.iou}, {"val_precision", sc.precision}, {"val_recall", sc.recall}, {"val_dice_mean_image", mean_dice},
                {"elapsed_s", elapsed()}};
    }

    nlohmann::json card(const std::string& which) const {
        int64_t n_params = 0;
        for (const auto& p : net_->parameters()) n_params += p.numel();
        return {{"model", "segment.unet weights (" + which + ")"}, {"trainer", "train.unet 1.0.0"},
                {"recipe", s_.params.value("recipe", std::string())}, {"params", s_.params}, {"seed", s_.seed},
                {"train_images", train_stems_}, {"validation_images", val_stems_},
                {"epoch", which == "final" ? (history_.empty() ? 0 : history_.back().value("epoch", 0)) : best_.value("epoch", 0)},
                {"best_val_dice", best_.value("val_dice", 0.0)}, {"best", best_}, {"history", history_},
                {"network", {{"config", network_json()}, {"parameters", n_params}, {"receptive_radius_px", nn::receptive_radius(net_opts_)}}},
                {"threads", threads_}, {"training_time_s", elapsed()}, {"libtorch", TORCH_VERSION}};
    }

    void save_best(int64_t epoch) {
        nn::save_weights(spotflow::output_path(host_, best_name_), network_json(), *net_, card("best"));
        publish(best_name_);
    }

    void save_checkpoint(int64_t epoch) {
        const std::string name = rel(fmt::format("checkpoints/checkpoint_epoch_{:03d}.pt", epoch));
        const std::string side = rel(fmt::format("checkpoints/checkpoint_epoch_{:03d}.json", epoch));
        try {
            loop_->save_checkpoint(spotflow::output_path(host_, name), *net_);
        } catch (const std::runtime_error& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
        const nlohmann::json j = {{"epoch", epoch}, {"best_val_dice", best_.value("val_dice", 0.0)}, {"best", best_},
                                  {"history", history_}, {"network", network_json()}};
        spotflow_csv::write_file(spotflow::output_path(host_, side), j.dump(2) + "\n");
        publish(name);
        publish(side);
    }

    void write_metrics_csv() const {
        std::string t = "epoch,step,train_loss,train_dice,val_dice,val_iou,lr,elapsed_s\n";
        for (const auto& v : history_)
            t += fmt::format("{},{},{},{},{},{},{},{:.1f}\n", v.value("epoch", 0), v.value("step", 0), v.value("epoch_loss", NAN),
                             v.value("train_dice", NAN), v.value("val_dice", NAN), v.value("val_iou", NAN), v.value("lr", NAN),
                             v.value("elapsed_s", NAN));
        spotflow_csv::write_file(metrics_csv_path_, t);
    }

    void draw_figure() const {
        namespace pl = spotflow::plot;
        pl::Series loss{"train loss", {}, {}, pl::Series::LinePoints}, td{"train Dice", {}, {}, pl::Series::LinePoints},
            vd{"val Dice", {}, {}, pl::Series::LinePoints}, lr{"learning rate", {}, {}, pl::Series::LinePoints};
        for (const auto& v : history_) {
            const double e = v.value("epoch", 0);
            loss.x.push_back(e);
            loss.y.push_back(v.value("epoch_loss", NAN));
            td.x.push_back(e);
            td.y.push_back(v.value("train_dice", NAN));
            vd.x.push_back(e);
            vd.y.push_back(v.value("val_dice", NAN));
            lr.x.push_back(e);
            lr.y.push_back(std::log10(v.value("lr", 1e-12)));
        }
        try {
            pl::Figure f(1500, 450, 1, 3, fmt::format("train.unet: {} training images, best val Dice {:.4f} at epoch {}", train_.size(),
                                                      best_.value("val_dice", 0.0), best_.value("epoch", 0)));
            f.lines(0, {"Training loss", "epoch", s_.loss}, {loss});
            f.lines(1, {"Dice", "epoch", "Dice", std::nullopt, std::make_pair(0.0, 1.45)}, {td, vd}); // room for the legend above 1
            f.lines(2, {"Learning rate", "epoch", "log10 lr", std::nullopt, std::nullopt, false}, {lr});
            f.save_png(figure_path_);
        } catch (const std::exception& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
    }

    const spotflow_host* host_;
    Settings s_;
    int threads_ = 1;
    nn::UNetOptions net_opts_;
    nn::UNet net_{nullptr};
    std::unique_ptr<nn::LossBridge> loss_;
    std::unique_ptr<torch::optim::Optimizer> opt_;
    std::unique_ptr<nn::TrainingLoop> loop_;
    std::vector<is::Entry> entries_;
    std::vector<Sample> train_, val_;
    std::vector<std::string> train_stems_, val_stems_;
    std::vector<Patch> patches_;
    int64_t planned_epoch_ = -1, steps_per_epoch_ = 1, total_steps_ = 1, resume_epoch_ = 0;
    double epoch_tp_ = 0, epoch_fp_ = 0, epoch_fn_ = 0, epoch_loss_ = 0;
    int64_t epoch_steps_ = 0;
    nlohmann::json history_ = nlohmann::json::array(), best_ = nlohmann::json::object();
    bool pending_best_ = false;
    std::string best_name_, final_path_, metrics_path_, metrics_csv_path_, card_path_, figure_path_;
    Clock::time_point started_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Trainer>();
const spotflow_port_desc kInputs[] = {
    {"images", is::kTableType, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM | SPOTFLOW_PORT_MULTIPLE,
     "image sets with masks (read.image_set, sim.spheroids); split train/val/test"}};
const spotflow_port_desc kOutputs[] = {
    {"result", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "one row: epochs, best_epoch, best_val_dice, final_val_dice, training_time_s"}};
const spotflow_plugin_desc kDesc = {"train.unet", "1.0.0",
                                    "Trains segment.unet's U-Net on labelled images: random patches, augmentation, reduce-on-plateau, best model by val Dice, checkpoints",
                                    "trainer", kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace train_unet

SPOTFLOW_EXPORT_PLUGINS(train_unet::kDesc);

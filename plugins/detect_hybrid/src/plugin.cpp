// detect.hybrid: seed 001's hybrid network (libs/nn HybridNet, trained by
// train.hybrid) as a detector on a two-channel movie: puncta + calcium as
// two aligned movie inputs, or one T x 2 x H x W movie. Every frame's output
// comes from the 5-frame window centred on it (edge frames repeated at the
// movie's ends), so the last two frames of a chunk wait for the next chunk
// or finish. Emits per frame the detections with photons, uncertainties and
// the calcium-event probability at the detection.
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_nn/hybrid.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/weights.hpp"
#include "schema.json.hpp"

namespace detect_hybrid {
namespace {

using spotflow::PluginError;
namespace nn = spotflow::nn;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

enum Port { kMovie = 0, kCalcium = 1 };

template <class T> void photons_of(const void* src, float* dst, int64_t n, int64_t stride, int64_t offset, double base, double k) {
    const T* s = static_cast<const T*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>((static_cast<double>(s[i * stride + offset]) - base) * k);
}

class Detector {
public:
    static constexpr const char* kContext = "detect.hybrid";

    Detector(const spotflow_host* host, const char* params_json) : host_(host) {
        const auto p = nlohmann::json::parse(params_json);
        const std::string path = p.at("weights").get<std::string>();
        try {
            const nn::WeightFile file = nn::read_weights(path);
            try {
                o_ = nn::HybridOptions::from_json(file.network);
            } catch (const std::invalid_argument& e) {
                throw std::runtime_error("weights file '" + path + "': another architecture: " + e.what());
            }
            net_ = nn::HybridNet(o_);
            nn::load_pretrained(file, net_, nn::Pretrained::All);
        } catch (const std::runtime_error& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("param 'weights': ") + e.what());
        }
        net_->eval();
        threshold_ = p.at("detection_threshold");
        batch_ = p.at("batch_frames");
        baseline_ = p.at("baseline_adu");
        per_adu_ = p.at("e_per_adu").get<double>() / p.at("em_gain").get<double>() / p.at("qe").get<double>();
        nn::set_threads(std::max(1, host->threads(host)));
        calcium_connected_ = host->input_count(host, kCalcium) > 0;
        if (o_.in_channels == 1 && calcium_connected_)
            host->log(host, SPOTFLOW_LOG_WARNING,
                      "the weights are a 1-channel (puncta only) network: the calcium input is not used and calcium_probability is 0");
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter* out) {
        if (p.kind != SPOTFLOW_DATA_TENSOR || !p.tensor) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "expected a movie tensor");
        const DLTensor& m = p.tensor->dl_tensor;
        const char* port = in.port == kMovie ? "movie" : "calcium";
        if (!spotflow::is_compact(m) || m.device.device_type != kDLCPU || m.dtype.lanes != 1)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + ": not a compact CPU tensor");
        const bool two = m.ndim == 4;
        if (!(m.ndim == 3 || (two && m.shape[1] == 2)))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + " has shape " + spotflow::shape_name(m) +
                                                                 ", expected T x H x W or (movie) T x 2 x H x W");
        if (two && in.port == kCalcium)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "calcium has two channels: give a two-channel movie as movie alone");
        if (two && calcium_connected_)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "movie has two channels and calcium is connected too: give one or the other");
        const int64_t t = m.shape[0], h = m.shape[two ? 2 : 1], w = m.shape[two ? 3 : 2];
        if (h < 1 || w < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + " has empty frames");
        if (h_ < 0) h_ = h, w_ = w, info_ = p.info;
        if (h != h_ || w != w_)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + " frames are " + std::to_string(w) + " x " +
                                                                 std::to_string(h) + " px, the " + (in.port == kMovie ? "calcium" : "movie") +
                                                                 "'s " + std::to_string(w_) + " x " + std::to_string(h_));
        if (o_.in_channels == 2 && !two && !calcium_connected_)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "the weights are a 2-channel (puncta + calcium) network but the movie has one channel and "
                              "no calcium movie is connected");
        const int64_t first = p.info.frame_offset;
        const int channels = two ? 2 : 1;
        for (int c = 0; c < channels; ++c) {
            auto& frames = (in.port == kCalcium || c == 1) ? calcium_ : puncta_;
            const int64_t& expect = (in.port == kCalcium || c == 1) ? calcium_next_ : puncta_next_;
            if (first != expect)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + ": chunk starts at frame " + std::to_string(first) +
                                                                     ", expected " + std::to_string(expect));
            for (int64_t f = 0; f < t; ++f) frames[first + f] = to_photons(m, f, c, channels, h, w, port);
        }
        if (in.port == kCalcium || two) calcium_next_ = first + t;
        if (in.port == kMovie) puncta_next_ = first + t;
        // A very unbalanced pair of streams would pile frames up: bounded.
        if (std::abs(puncta_next_ - (o_.in_channels == 2 ? calcium_next_ : puncta_next_)) > 4096)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "movie and calcium are more than 4096 frames apart");
        return run(out, false);
    }

    spotflow_status finish(const spotflow_emitter* out) {
        if (o_.in_channels == 2 && calcium_connected_ && puncta_next_ != calcium_next_)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "movie has " + std::to_string(puncta_next_) + " frames but calcium " +
                                                                 std::to_string(calcium_next_));
        return run(out, true);
    }

private:
    torch::Tensor to_photons(const DLTensor& m, int64_t f, int c, int channels, int64_t h, int64_t w, const char* port) const {
        auto x = torch::empty({h, w}, torch::kFloat32);
        const int64_t n = h * w;
        const char* base = static_cast<const char*>(m.data) + m.byte_offset;
        const int64_t bytes = m.dtype.bits / 8;
        const void* src = base + (f * channels) * n * bytes;
        float* dst = x.data_ptr<float>();
        const auto code = m.dtype.code, bits = m.dtype.bits;
        const int64_t off = c * n;
        if (code == kDLUInt && bits == 8) photons_of<uint8_t>(src, dst, n, 1, off, baseline_, per_adu_);
        else if (code == kDLUInt && bits == 16) photons_of<uint16_t>(src, dst, n, 1, off, baseline_, per_adu_);
        else if (code == kDLFloat && bits == 32) photons_of<float>(src, dst, n, 1, off, baseline_, per_adu_);
        else if (code == kDLInt && bits == 16) photons_of<int16_t>(src, dst, n, 1, off, baseline_, per_adu_);
        else throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, std::string(port) + " dtype " + spotflow::dtype_name(m.dtype) + " is not supported");
        if (!torch::isfinite(x).all().item<bool>())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(port) + " frame " + std::to_string(f) + " has a non-finite pixel");
        return x;
    }

    // Outputs every frame whose window is complete (at finish: all).
    spotflow_status run(const spotflow_emitter* out, bool final) {
        const int64_t half = o_.frames / 2;
        const bool ca = o_.in_channels == 2;
        const int64_t have = ca ? std::min(puncta_next_, calcium_next_) : puncta_next_;
        const int64_t last = final ? have - 1 : have - 1 - half;
        if (last < next_out_) return SPOTFLOW_OK;
        const int64_t mult = o_.size_multiple();
        const int64_t H = (h_ + mult - 1) / mult * mult, W = (w_ + mult - 1) / mult * mult;
        spotflow::TableBuilder b;
        using spotflow::ColumnType;
        const auto cf = b.add_column("frame", ColumnType::Int64), cx = b.add_column("x", ColumnType::Float64),
                   cy = b.add_column("y", ColumnType::Float64), cp = b.add_column("probability", ColumnType::Float64),
                   cph = b.add_column("photons", ColumnType::Float64), csx = b.add_column("sigma_x", ColumnType::Float64),
                   csy = b.add_column("sigma_y", ColumnType::Float64), csp = b.add_column("sigma_photons", ColumnType::Float64),
                   cbg = b.add_column("background", ColumnType::Float64),
                   cca = b.add_column("calcium_probability", ColumnType::Float64);
        torch::InferenceMode guard;
        const int64_t first_out = next_out_;
        // Windows go through the network batch_frames at a time (one forward per
        // batch: fewer, larger convolutions are faster on CPU), into one
        // reused input buffer.
        for (int64_t f0 = next_out_; f0 <= last; f0 += batch_) {
            if (host_->is_cancelled(host_)) return SPOTFLOW_ERR_CANCELLED;
            const int64_t n = std::min<int64_t>(batch_, last - f0 + 1);
            if (!input_.defined() || input_.size(0) != n) input_ = torch::empty({n, o_.frames, o_.in_channels, h_, w_});
            for (int64_t i = 0; i < n; ++i)
                for (int64_t k = 0; k < o_.frames; ++k) {
                    const int64_t src = std::clamp<int64_t>(f0 + i - half + k, 0, have - 1); // the movie's ends repeated
                    input_[i][k][0].copy_(puncta_.at(src));
                    if (ca) input_[i][k][1].copy_(calcium_.at(src));
                }
            auto x = net_->normalise(input_);
            if (H != h_ || W != w_) x = torch::replication_pad2d(x, {0, W - w_, 0, H - h_});
            const auto o = net_->forward(x);
            for (int64_t i = 0; i < n; ++i)
                for (const auto& d : nn::hybrid_detections(o.localisation[i], ca ? o.calcium[i] : torch::Tensor(), o_, threshold_, h_, w_)) {
                    b.append_int(cf, f0 + i);
                    b.append_double(cx, d.x);
                    b.append_double(cy, d.y);
                    b.append_double(cp, d.probability);
                    b.append_double(cph, d.photons);
                    b.append_double(csx, d.sigma_x);
                    b.append_double(csy, d.sigma_y);
                    b.append_double(csp, d.sigma_photons);
                    b.append_double(cbg, d.background);
                    b.append_double(cca, d.calcium_probability);
                }
        }
        next_out_ = last + 1;
        // Frames no later window needs.
        for (auto* frames : {&puncta_, &calcium_})
            while (!frames->empty() && frames->begin()->first < next_out_ - half) frames->erase(frames->begin());
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        p.info = info_;
        p.info.channel = 0;
        p.info.frame_offset = first_out;
        p.info.frame_count = last - first_out + 1;
        b.finish(&p.schema, &p.array);
        host_->progress(host_, last + 1, info_.total_frames);
        return out->emit(out, 0, &p);
    }

    const spotflow_host* host_;
    int64_t batch_ = 4;   // windows per forward pass (batch_frames)
    torch::Tensor input_; // batch_ x frames x C x H x W photons, reused
    nn::HybridOptions o_;
    nn::HybridNet net_{nullptr};
    double threshold_ = 0.5, baseline_ = 100, per_adu_ = 0.5 / 0.9;
    bool calcium_connected_ = false;
    std::map<int64_t, torch::Tensor> puncta_, calcium_; // photons per pixel, by frame
    int64_t puncta_next_ = 0, calcium_next_ = 0, next_out_ = 0;
    int64_t h_ = -1, w_ = -1;
    spotflow_stream_info info_{};
};

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "the puncta channel (T x H x W), or both channels (T x 2 x H x W)"},
    {"calcium", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL, "the calcium channel, aligned with movie (T x H x W)"}};
const spotflow_port_desc kOutputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y, probability, photons, sigma_x, sigma_y, sigma_photons, background, calcium_probability"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Detector>();
const spotflow_plugin_desc kDesc = {"detect.hybrid", "1.0.0",
                                    "The hybrid localisation + calcium network (seed 001) on a two-channel movie: detections with a calcium-event probability",
                                    "detector", kInputs, 2, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace detect_hybrid

SPOTFLOW_EXPORT_PLUGINS(detect_hybrid::kDesc);

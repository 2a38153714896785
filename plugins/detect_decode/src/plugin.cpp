// detect.decode: DECODE (Speiser et al. 2021) as a spotflow detector. Frames
// stream through the frame U-Net once each; every frame's output comes from
// the temporal U-Net over the features of (t-1, t, t+1), so a chunk's last
// frame waits for the next chunk (or finish) for its right neighbour.
#include <algorithm>
#include <cmath>
#include <deque>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "spot_evidence.hpp"
#include "spotflow_camera/calibrate.hpp"
#include "spotflow_camera/camera_json.hpp"
#include "spotflow_decode/net.hpp"
#include "spotflow_decode/normalise.hpp"
#include "spotflow_decode/postprocess.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"
#include "schema.json.hpp"


#ifndef DECODE_DEFAULT_WEIGHTS
#define DECODE_DEFAULT_WEIGHTS "decode_default.sfw"
#endif

namespace detect_decode {
namespace {

using spotflow::PluginError;
namespace camera = spotflow::camera;

// schema.json with libs/camera's camera object added to its properties.
std::string make_schema() {
    auto j = nlohmann::json::parse(spotflow_schemas::schema);
    j["properties"]["camera"] = nlohmann::json::parse(std::string("{") + camera::kSchemaProperty + "}")["camera"];
    return j.dump(2);
}
const std::string kSchema = make_schema();

// The camera param, or the flat fields of detect.decode 1.x (baseline_adu,
// e_per_adu, qe, em_gain: any of them states the camera, EMCCD when
// em_gain > 1, with 1.x's defaults for the others), as detect.wavelet reads
// its own 1.x fields.
camera::Stated read_camera(const nlohmann::json& p) { return camera::parse_camera_params(p, {"baseline_adu", "e_per_adu", "qe", "em_gain"}); }

struct Feature {
    int64_t frame;
    torch::Tensor feat; // C x H' x W'
};

struct Detector {
    static constexpr const char* kContext = "detect.decode";
    Detector(const spotflow_host* host, const char* params_json);
    spotflow_status process(const spotflow_input&, const spotflow_packet& in, const spotflow_emitter* out);
    spotflow_status finish(const spotflow_emitter* out);

    const spotflow_host* host = nullptr;
    decode::DecodeNet net{nullptr};
    torch::Device device{torch::kCPU};
    decode::PostSettings post;
    camera::Stated stated;
    camera::Camera cam;              // the camera the input is normalised with
    decode::InputTransform transform; // ADU -> the network's units, and back
    bool ready = false;               // camera known (estimated on the first chunk)
    int64_t batch = 1;
    std::string weights_path;
    // Frames whose features are known: at most one already output (the left
    // neighbour of the first pending one), then the pending frames.
    std::deque<Feature> buf;
    bool front_done = false;
    int64_t h = 0, w = 0;       // frame size of the stream
    int64_t next_frame = -1;    // the frame the next chunk should start at
    spotflow_stream_info info{};
};

template <class T>
void to_input(const void* src, float* dst, int64_t n, const decode::InputTransform& tr, double off, double inv) {
    const T* s = static_cast<const T*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>((tr.units(static_cast<double>(s[i])) - off) * inv);
}

// n values of the chunk m (from its start) through tr, then (v - off) * inv.
void convert_values(const DLTensor& m, int64_t n, float* dst, const decode::InputTransform& tr, double off, double inv) {
    const void* src = static_cast<const char*>(m.data) + m.byte_offset;
    const auto code = m.dtype.code, bits = m.dtype.bits;
    if (m.dtype.lanes != 1) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "movie dtype " + spotflow::dtype_name(m.dtype) + " is not supported");
    if (code == kDLUInt && bits == 8) to_input<uint8_t>(src, dst, n, tr, off, inv);
    else if (code == kDLUInt && bits == 16) to_input<uint16_t>(src, dst, n, tr, off, inv);
    else if (code == kDLUInt && bits == 32) to_input<uint32_t>(src, dst, n, tr, off, inv);
    else if (code == kDLInt && bits == 16) to_input<int16_t>(src, dst, n, tr, off, inv);
    else if (code == kDLInt && bits == 32) to_input<int32_t>(src, dst, n, tr, off, inv);
    else if (code == kDLFloat && bits == 32) to_input<float>(src, dst, n, tr, off, inv);
    else if (code == kDLFloat && bits == 64) to_input<double>(src, dst, n, tr, off, inv);
    else throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "movie dtype " + spotflow::dtype_name(m.dtype) + " is not supported");
}

// A chunk's frames as normalised network input, T x 1 x H' x W' (replicate
// padding up to the size multiple), through transform `tr`.
torch::Tensor movie_to_input(const Detector& d, const DLTensor& m, const decode::InputTransform& tr) {
    const int64_t t = m.shape[0], h = m.shape[1], w = m.shape[2];
    const auto& c = d.net->config();
    auto x = torch::empty({t, 1, h, w}, torch::kFloat32);
    convert_values(m, t * h * w, x.data_ptr<float>(), tr, c.input_offset, 1.0 / c.input_scale);
    const int64_t mult = c.size_multiple();
    const int64_t ph = (mult - h % mult) % mult, pw = (mult - w % mult) % mult;
    if (ph || pw) x = torch::replication_pad2d(x, {0, pw, 0, ph});
    return x;
}

// Runs the temporal module on every pending frame that has its right
// neighbour (all of them when final) and emits their detections.
spotflow_status flush(Detector& d, bool final, const spotflow_emitter* out) {
    std::vector<size_t> ready;
    for (size_t k = d.front_done ? 1 : 0; k < d.buf.size(); ++k)
        if (k + 1 < d.buf.size() || final) ready.push_back(k);
    if (ready.empty()) return SPOTFLOW_OK;

    spotflow::TableBuilder b;
    using spotflow::ColumnType;
    const auto c_frame = b.add_column("frame", ColumnType::Int64);
    const auto c_x = b.add_column("x", ColumnType::Float64);
    const auto c_y = b.add_column("y", ColumnType::Float64);
    const auto c_n = b.add_column("photons", ColumnType::Float64);
    const auto c_b = b.add_column("background", ColumnType::Float64);
    const auto c_p = b.add_column("probability", ColumnType::Float64);
    const auto c_sx = b.add_column("x_sigma", ColumnType::Float64);
    const auto c_sy = b.add_column("y_sigma", ColumnType::Float64);
    const auto c_sn = b.add_column("photons_sigma", ColumnType::Float64);
    const auto c_u = b.add_column("uncertainty", ColumnType::Float64);

    torch::InferenceMode guard;
    for (size_t s = 0; s < ready.size(); s += static_cast<size_t>(d.batch)) {
        if (d.host->is_cancelled(d.host)) return SPOTFLOW_ERR_CANCELLED;
        const size_t e = std::min(ready.size(), s + static_cast<size_t>(d.batch));
        std::vector<torch::Tensor> prev, cur, next;
        for (size_t r = s; r < e; ++r) {
            const size_t k = ready[r];
            cur.push_back(d.buf[k].feat);
            // The first and last frames of the movie are their own missing
            // neighbour (replicate padding in time), as in training.
            prev.push_back(k > 0 ? d.buf[k - 1].feat : d.buf[k].feat);
            next.push_back(k + 1 < d.buf.size() ? d.buf[k + 1].feat : d.buf[k].feat);
        }
        auto o = d.net->outputs(torch::stack(prev), torch::stack(cur), torch::stack(next));
        o = o.narrow(2, 0, d.h).narrow(3, 0, d.w).to(torch::kCPU).contiguous();
        const float* maps = o.data_ptr<float>();
        const int64_t plane = decode::kChannels * d.h * d.w;
        for (size_t r = s; r < e; ++r) {
            const int64_t frame = d.buf[ready[r]].frame;
            for (const auto& l : decode::postprocess(maps + static_cast<int64_t>(r - s) * plane, d.h, d.w, d.post)) {
                b.append_int(c_frame, frame);
                b.append_double(c_x, l.x);
                b.append_double(c_y, l.y);
                b.append_double(c_n, l.photons * d.transform.photons_per_unit);
                b.append_double(c_b, d.transform.background_photons(l.background));
                b.append_double(c_p, l.probability);
                b.append_double(c_sx, l.x_sigma);
                b.append_double(c_sy, l.y_sigma);
                b.append_double(c_sn, l.photons_sigma * d.transform.photons_per_unit);
                b.append_double(c_u, std::sqrt(0.5 * (l.x_sigma * l.x_sigma + l.y_sigma * l.y_sigma)));
            }
        }
    }
    const int64_t first = d.buf[ready.front()].frame, last = d.buf[ready.back()].frame;
    // Keep the last output frame as the next one's left neighbour.
    const size_t keep_from = ready.back();
    d.buf.erase(d.buf.begin(), d.buf.begin() + static_cast<std::ptrdiff_t>(keep_from));
    d.front_done = true;
    if (final) d.buf.clear(), d.front_done = false;

    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    p.info = d.info;
    p.info.frame_offset = first;
    p.info.frame_count = last - first + 1;
    b.finish(&p.schema, &p.array);
    d.host->progress(d.host, last + 1, d.info.total_frames);
    return out->emit(out, 0, &p);
}

// Output maps (T x kChannels x h x w, CPU) of every frame of the
// normalised input x, the ends replicated as their missing neighbours.
torch::Tensor run_frames(Detector& d, const torch::Tensor& x, int64_t h, int64_t w) {
    torch::InferenceMode guard;
    auto xs = x.to(d.device);
    if (d.device.is_cpu()) xs = xs.contiguous(at::MemoryFormat::ChannelsLast);
    const auto f = d.net->frame_features(xs);
    const int64_t t = f.size(0);
    const auto prev = torch::cat({f.narrow(0, 0, 1), f.narrow(0, 0, t - 1)});
    const auto next = torch::cat({f.narrow(0, 1, t - 1), f.narrow(0, t - 1, 1)});
    return d.net->outputs(prev, f, next).narrow(2, 0, h).narrow(3, 0, w).to(torch::kCPU).contiguous();
}

// On the first chunk: the camera. Stated: checked against the movie's
// median. auto: libs/camera's calibration (the background's cumulants, the
// provisional camera, the spots' photon transfer slope, the kind from the
// background's skew), the spots being the network's confident isolated
// detections on the first 16 frames in the provisional camera's counts,
// refitted (spot_evidence.hpp). run.json records the camera.
void prepare(Detector& d, const DLTensor& m) {
    const int64_t frames = m.shape[0], h = m.shape[1], w = m.shape[2];
    const int64_t ts = std::min<int64_t>(frames, 64);
    std::vector<float> adu(static_cast<size_t>(ts * h * w));
    convert_values(m, ts * h * w, adu.data(), decode::InputTransform{}, 0, 1);
    camera::Sample sample(static_cast<int>(w), static_cast<int>(h), 64);
    for (int64_t t = 0; t < ts; ++t)
        sample.add([&](int64_t i) { return adu[static_cast<size_t>(t * h * w + i)]; });
    const auto norm = d.net->config().input_normalisation;
    nlohmann::json cj;
    try {
        if (!d.stated.estimate) {
            camera::check_against_data(d.stated.camera, sample.median());
            d.cam = d.stated.camera;
        } else {
            const camera::BackgroundNoise bg = camera::background_noise(sample);
            const camera::Camera cam0 = camera::provisional(bg, d.stated.camera);
            const camera::PoissonScale ps0 = camera::poisson_scale(cam0);
            const decode::InputTransform tr0 = decode::input_transform(norm, cam0);
            const int64_t tf = std::min<int64_t>(frames, 16);
            const auto x = movie_to_input(d, m, tr0).narrow(0, 0, tf);
            const auto maps = run_frames(d, x, h, w);
            camera::SpotResiduals ev;
            std::vector<double> widths;
            const int hw = 5;
            for (int64_t t = 0; t < tf; ++t) {
                Frame f;
                f.width = static_cast<int>(w), f.height = static_cast<int>(h);
                f.u.resize(static_cast<size_t>(h * w));
                for (int64_t i = 0; i < h * w; ++i) f.u[static_cast<size_t>(i)] = static_cast<float>(ps0(adu[static_cast<size_t>(t * h * w + i)]));
                const auto locs = decode::postprocess(maps.data_ptr<float>() + t * decode::kChannels * h * w, h, w, d.post);
                for (size_t k = 0; k < locs.size(); ++k) {
                    const auto& l = locs[k];
                    if (l.probability < 0.9 || l.x < hw + 1 || l.y < hw + 1 || l.x > w - hw - 2 || l.y > h - hw - 2) continue;
                    bool isolated = true;
                    for (size_t j = 0; j < locs.size() && isolated; ++j)
                        if (j != k && std::hypot(locs[j].x - l.x, locs[j].y - l.y) < 2.0 * hw) isolated = false;
                    if (!isolated) continue;
                    // The network's photons and background in the provisional counts (F^2 = 1, no read shift).
                    Candidate c{l.x, l.y, l.photons * tr0.photons_per_unit * cam0.qe,
                                tr0.background_photons(l.background) * cam0.qe};
                    if (!(c.photons > 20 * std::sqrt(std::max(c.background, 1.0)))) continue; // bright enough to weigh the noise
                    const SpotFit sf = fit_spot(f, c, 1.5, hw);
                    if (!sf.converged) continue;
                    if (add_evidence(f, sf, hw, ev)) widths.push_back(sf.sigma);
                }
            }
            if (ev.spots < 10)
                throw std::invalid_argument(
                    "camera calibration: only " + std::to_string(ev.spots) + " bright isolated puncta in the first " +
                    std::to_string(tf) +
                    " frames, too few to measure the gain from; state the camera instead (param camera: kind scmos or "
                    "emccd, with baseline_adu, e_per_adu, read_noise_e, em_gain)");
            const camera::Calibration cal = camera::calibrate(bg, cam0.ptc_slope() * ev.ratio(), d.stated.camera);
            d.cam = cal.camera;
            if (!cal.note.empty()) d.host->log(d.host, SPOTFLOW_LOG_INFO, ("detect.decode: " + cal.note).c_str());
            std::nth_element(widths.begin(), widths.begin() + static_cast<std::ptrdiff_t>(widths.size() / 2), widths.end());
            cj["calibration"] = {{"frames", cal.frames},       {"ptc_slope_adu", cal.slope},
                                 {"skew_ratio", cal.skew_ratio}, {"background_adu", cal.background_adu},
                                 {"spots", ev.spots},           {"spot_sigma_px_median", widths[widths.size() / 2]}};
            if (d.cam.kind == camera::Kind::Emccd && !d.stated.em_gain_stated) cj["em_gain_assumed"] = true;
        }
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    d.transform = decode::input_transform(norm, d.cam);
    nlohmann::json rec = camera::to_json(d.cam);
    rec["estimated"] = d.stated.estimate;
    if (cj.contains("calibration")) rec["calibration"] = cj["calibration"];
    if (cj.contains("em_gain_assumed")) rec["em_gain_assumed"] = true;
    rec["input_normalisation"] = decode::normalisation_name(norm);
    if (d.host->abi.minor >= 1 && d.host->record) d.host->record(d.host, "camera", rec.dump().c_str());
    char line[256];
    std::snprintf(line, sizeof line, "detect.decode: camera %s (%s): offset %.1f ADU, %.3g ADU per photo-electron, F^2 %g",
                  d.cam.kind == camera::Kind::Emccd ? "emccd" : "scmos", d.stated.estimate ? "estimated" : "stated",
                  d.cam.baseline_adu, d.cam.adu_per_electron(), d.cam.excess_noise());
    d.host->log(d.host, SPOTFLOW_LOG_INFO, line);
    d.ready = true;
}

Detector::Detector(const spotflow_host* host_, const char* params_json) : host(host_) {
    const auto p = nlohmann::json::parse(params_json);
    // LibTorch's intra-op pool is process-wide and starts at 1 thread here.
    at::set_num_threads(std::max(1, host->threads(host)));
    const std::string dev = p.value("device", std::string("cpu"));
    if (dev == "cuda" && !torch::cuda::is_available())
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "param 'device' is cuda but LibTorch sees no CUDA device");
    if (dev != "cpu" && dev != "cuda" && dev != "auto")
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'device' must be cpu, cuda or auto, got '" + dev + "'");
    device = (dev == "cuda" || (dev == "auto" && torch::cuda::is_available())) ? torch::Device(torch::kCUDA)
                                                                              : torch::Device(torch::kCPU);
    weights_path = p.value("weights", std::string());
    if (weights_path.empty()) weights_path = std::string(host->plugin_dir(host)) + "/" + DECODE_DEFAULT_WEIGHTS;
    try {
        net = decode::load_weights(weights_path).net;
    } catch (const std::runtime_error& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    net->eval();
    net->to(device);
    if (device.is_cpu()) net->to_channels_last();
    const auto& c = net->config();
    post = decode::post_settings_from(p);
    post.photon_scale = c.photon_scale;
    post.background_scale = c.input_scale;
    batch = p.value("batch_frames", 1);
    try {
        stated = read_camera(p);
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    if (p.contains("em_gain") && !p.contains("camera") && !(p.at("em_gain").get<double>() >= 1))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'em_gain' must be >= 1");
    cam = stated.camera;
    transform = decode::input_transform(c.input_normalisation, cam);
    host->log(host, SPOTFLOW_LOG_INFO,
              ("detect.decode: weights " + weights_path + " (input " +
               decode::normalisation_name(c.input_normalisation) + "), " +
               std::to_string(net->macs_per_pixel_streamed()) + " multiply-adds per pixel")
                  .c_str());
}

spotflow_status Detector::process(const spotflow_input&, const spotflow_packet& packet, const spotflow_emitter* out) {
    Detector& d = *this;
    const spotflow_packet* in = &packet;
    if (in->kind != SPOTFLOW_DATA_TENSOR || !in->tensor)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "input 'movie' is not a tensor");
    const DLTensor& m = in->tensor->dl_tensor;
    if (m.ndim != 3)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "expected a T x H x W movie, got " + std::to_string(m.ndim) + " dimensions");
    if (m.device.device_type != kDLCPU) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "the movie chunk is not on the CPU");
    if (!spotflow::is_compact(m)) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "the movie chunk is not compact");
    const int64_t t = m.shape[0];
    if (t == 0) return SPOTFLOW_OK;
    if (m.shape[1] < 1 || m.shape[2] < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "the movie has empty frames");
    if (!d.buf.empty() && (m.shape[1] != d.h || m.shape[2] != d.w))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "frame size changed from " + std::to_string(d.w) + " x " + std::to_string(d.h) + " to " +
                              std::to_string(m.shape[2]) + " x " + std::to_string(m.shape[1]) + " at frame " +
                              std::to_string(in->info.frame_offset));
    // A chunk that does not continue the previous one starts a new
    // sequence: the pending frame gets no right neighbour.
    if (!d.buf.empty() && in->info.frame_offset != d.next_frame) {
        const auto s = flush(d, true, out);
        if (s != SPOTFLOW_OK) return s;
    }
    d.h = m.shape[1];
    d.w = m.shape[2];
    d.info = in->info;
    if (!d.ready) prepare(d, m);
    const auto x = movie_to_input(d, m, d.transform);
    torch::InferenceMode guard;
    for (int64_t s = 0; s < t; s += d.batch) {
        if (d.host->is_cancelled(d.host)) return SPOTFLOW_ERR_CANCELLED;
        const int64_t n = std::min(d.batch, t - s);
        auto xs = x.narrow(0, s, n).to(d.device);
        if (d.device.is_cpu()) xs = xs.contiguous(at::MemoryFormat::ChannelsLast);
        const auto f = d.net->frame_features(xs);
        for (int64_t i = 0; i < n; ++i) d.buf.push_back({in->info.frame_offset + s + i, f[i]});
    }
    d.next_frame = in->info.frame_offset + t;
    return flush(d, false, out);
}

spotflow_status Detector::finish(const spotflow_emitter* out) {
    if (buf.empty()) return SPOTFLOW_OK;
    return flush(*this, true, out);
}

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "T x H x W camera counts (ADU), any integer or float type"}};
const spotflow_port_desc kOutputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y, photons, background, probability, x_sigma, y_sigma, photons_sigma, uncertainty"}};
const spotflow_node_vtable kVtable = spotflow::node_vtable<Detector>();

} // namespace

const spotflow_plugin_desc kDesc = {"detect.decode", "2.0.0",
                                    "DECODE: a 3-frame U-Net detector with sub-pixel offsets, photons and uncertainties",
                                    "detector", kInputs, 1, 1, kOutputs, kSchema.c_str(), &kVtable, nullptr};

} // namespace detect_decode

SPOTFLOW_EXPORT_PLUGINS(detect_decode::kDesc);

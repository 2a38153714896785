// detect.wavelet: ThunderSTORM-style detection (a trous wavelet, local
// maxima over a noise-scaled threshold) and a per-spot maximum-likelihood fit
// of a pixel-integrated Gaussian under the camera's noise model, with each
// localisation's Cramér–Rao bound as its uncertainty.
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "detector.hpp"
#include "spotflow/plugin.h"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"

namespace detect_wavelet {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "threshold": {"type": "number", "exclusiveMinimum": 0, "default": 3.0,
      "description": "Detection threshold on the second wavelet plane, in robust standard deviations (1.4826 MAD) of the first plane."},
    "psf_sigma_px": {"type": "number", "exclusiveMinimum": 0, "default": 1.3,
      "description": "Gaussian PSF standard deviation in pixels (fixed, or the start value when fit_sigma is true)."},
    "fit_sigma": {"type": "boolean", "default": false, "description": "Fit the PSF width per spot as a fifth parameter."},
    "roi_half_width": {"type": "integer", "minimum": 0, "default": 0,
      "description": "Half width of the square fit window in pixels; 0 takes ceil(3 sigma)."},
    "max_iterations": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 30,
      "description": "Levenberg-Marquardt iterations per spot at most."},
    "border_px": {"type": "integer", "minimum": 0, "default": 1,
      "description": "Peaks closer than this to the image edge are ignored."},
    "baseline_adu": {"type": "number", "default": 100, "description": "Camera offset in ADU."},
    "e_per_adu": {"type": "number", "exclusiveMinimum": 0, "default": 0.5, "description": "Camera conversion gain, photo-electrons per ADU."},
    "qe": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.9, "description": "Quantum efficiency: reported photons = electrons / qe."},
    "read_noise_e": {"type": "number", "minimum": 0, "default": 1.5, "description": "Read noise, rms electrons per pixel (sCMOS)."},
    "em_gain": {"type": "number", "minimum": 1, "default": 1,
      "description": "EM gain; above 1 the camera is an EMCCD and uncertainties include its excess noise factor (F^2 = 2)."},
    "split_pairs": {"type": "boolean", "default": true,
      "description": "Refit a spot whose one-emitter fit is poor (deviance beyond chi-square's 4 sd) as two emitters, and keep the pair when it is significantly better (split_threshold): resolves puncta closer than about 2 sigma that give one peak."},
    "split_threshold": {"type": "number", "exclusiveMinimum": 0, "default": 30,
      "description": "Log-likelihood ratio 2 (ll2 - ll1) a two-emitter fit must reach to replace the one-emitter fit (chi-square with 3 degrees of freedom: 30 is p ~ 1e-6)."}
  }
})";

struct Detector {
    const spotflow_host* host;
    Settings settings;
};

void* create(const spotflow_host* host, const char* params_json) {
    Detector* d = nullptr;
    spotflow::guarded(host, "create", [&]() -> spotflow_status {
        const auto p = nlohmann::json::parse(params_json);
        Settings s;
        s.threshold = p.at("threshold");
        s.border = p.at("border_px");
        s.fit.sigma = p.at("psf_sigma_px");
        s.fit.fit_sigma = p.at("fit_sigma");
        const int hw = p.at("roi_half_width");
        s.fit.half_width = hw > 0 ? hw : static_cast<int>(std::ceil(3 * s.fit.sigma));
        s.fit.max_iterations = p.at("max_iterations");
        s.camera.baseline_adu = p.at("baseline_adu");
        s.camera.e_per_adu = p.at("e_per_adu");
        s.camera.qe = p.at("qe");
        s.camera.read_noise_e = p.at("read_noise_e");
        s.camera.em_gain = p.at("em_gain");
        s.camera.excess_noise = s.camera.em_gain > 1 ? 2.0 : 1.0;
        s.split_pairs = p.value("split_pairs", true);
        s.split_threshold = p.value("split_threshold", 30.0);
        d = new Detector{host, s};
        return SPOTFLOW_OK;
    });
    return d;
}

spotflow_status process(void* self, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter* out) {
    auto& d = *static_cast<Detector*>(self);
    return spotflow::guarded(d.host, "detecting", [&]() -> spotflow_status {
        const DLTensor& m = in->tensor->dl_tensor;
        if (m.ndim != 3)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "expected a T x H x W movie, got " + std::to_string(m.ndim) + " dimensions");
        if (!spotflow::is_compact(m)) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "the movie chunk is not compact");
        const int64_t frames = m.shape[0];
        if (frames > 0) {
            try {
                to_electrons(m, 0, d.settings.camera); // the dtype check, before the threads start
            } catch (const std::invalid_argument&) {
                throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "movie dtype " + spotflow::dtype_name(m.dtype) + " is not supported");
            }
        }
        std::vector<std::vector<Detection>> found(static_cast<size_t>(frames));
        tbb::task_arena arena(std::max(1, d.host->threads(d.host)));
        arena.execute([&] {
            tbb::parallel_for(int64_t{0}, frames, [&](int64_t t) {
                if (d.host->is_cancelled(d.host)) return;
                found[static_cast<size_t>(t)] = detect_frame(to_electrons(m, t, d.settings.camera), d.settings);
            });
        });
        if (d.host->is_cancelled(d.host)) return SPOTFLOW_ERR_CANCELLED;

        spotflow::TableBuilder b;
        using spotflow::ColumnType;
        const auto c_frame = b.add_column("frame", ColumnType::Int64);
        const auto c_x = b.add_column("x", ColumnType::Float64);
        const auto c_y = b.add_column("y", ColumnType::Float64);
        const auto c_n = b.add_column("photons", ColumnType::Float64);
        const auto c_b = b.add_column("background", ColumnType::Float64);
        const auto c_s = b.add_column("sigma", ColumnType::Float64);
        const auto c_u = b.add_column("uncertainty", ColumnType::Float64);
        const auto c_p = b.add_column("probability", ColumnType::Float64);
        for (int64_t t = 0; t < frames; ++t) {
            for (const Detection& x : found[static_cast<size_t>(t)]) {
                b.append_int(c_frame, in->info.frame_offset + t);
                b.append_double(c_x, x.x);
                b.append_double(c_y, x.y);
                b.append_double(c_n, x.photons);
                b.append_double(c_b, x.background);
                b.append_double(c_s, x.sigma);
                b.append_double(c_u, x.uncertainty);
                b.append_double(c_p, x.probability);
            }
        }
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TABLE;
        p.info = in->info;
        b.finish(&p.schema, &p.array);
        d.host->progress(d.host, in->info.frame_offset + frames, in->info.total_frames);
        return out->emit(out, 0, &p);
    });
}

spotflow_status finish(void*, const spotflow_emitter*) { return SPOTFLOW_OK; }
void destroy(void* self) { delete static_cast<Detector*>(self); }

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "T x H x W camera counts (ADU), any integer or float type"}};
const spotflow_port_desc kOutputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y, photons, background, sigma, uncertainty (CRLB, px), probability"}};
const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};
const spotflow_plugin_desc kDesc = {"detect.wavelet", "1.0.0",
                                    "Wavelet spot detection and per-spot MLE fit of a pixel-integrated Gaussian, with CRLB uncertainties",
                                    "detector", kInputs, 1, 1, kOutputs, kSchema, &kVtable, nullptr};

uint32_t count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDesc : nullptr; }

} // namespace
} // namespace detect_wavelet

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT,
                                                                         detect_wavelet::count, detect_wavelet::plugin};

// detect.wavelet: wavelet candidates (a trous B3 spline, as ThunderSTORM),
// each kept when a generalised likelihood-ratio test under the camera's
// noise model passes (Smith et al. 2015) at a stated false-positive rate,
// and a multi-emitter maximum-likelihood fit of pixel-integrated Gaussians
// with each localisation's Cramér–Rao bound as its uncertainty. The camera
// is estimated from the movie unless stated (libs/camera).
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "detector.hpp"
#include "spotflow_camera/calibrate.hpp"
#include "spotflow_camera/camera_json.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"

namespace detect_wavelet {
namespace {

using spotflow::PluginError;
namespace camera = spotflow::camera;

constexpr const char* kSchemaHead = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "false_positives_per_frame": {"type": "number", "exclusiveMinimum": 0, "default": 0.05,
      "description": "Expected false detections per frame on pure noise: sets the likelihood-ratio test every candidate must pass (spot + background against background, under the camera's noise model). The same number means the same on every camera, PSF and background."},
    "candidate_z": {"type": "number", "exclusiveMinimum": 0, "default": 4.0,
      "description": "Candidates for the test: local maxima of the second wavelet plane above this many of its local noise sd."},
    "threshold": {"type": "number", "exclusiveMinimum": 0,
      "description": "The old criterion, used instead of the test when given: W2 peaks above threshold x robust std (1.4826 MAD) of W1 (3 was the old default)."},
    "psf_sigma_px": {"type": "number", "exclusiveMinimum": 0,
      "description": "Gaussian PSF standard deviation in pixels; not given: estimated from the brightest isolated spots of the first chunk."},
    "fit_sigma": {"type": "boolean", "default": false, "description": "Fit the PSF width per spot as a fifth parameter."},
    "roi_half_width": {"type": "integer", "minimum": 0, "default": 0,
      "description": "Half width of the square fit window in pixels; 0 takes ceil(3 sigma)."},
    "max_iterations": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 30,
      "description": "Levenberg-Marquardt iterations per spot at most."},
    "border_px": {"type": "integer", "minimum": 0, "default": 1,
      "description": "Peaks closer than this to the image edge are ignored."},
    "split_pairs": {"type": "boolean", "default": true,
      "description": "Refit a spot whose one-emitter fit is poor (deviance beyond chi-square's 4 sd) as two emitters, and keep the pair when it is significantly better (split_threshold): resolves puncta closer than about 2 sigma that give one peak."},
    "split_threshold": {"type": "number", "exclusiveMinimum": 0, "default": 30,
      "description": "Log-likelihood ratio 2 (ll2 - ll1) a two-emitter fit must reach to replace the one-emitter fit (chi-square with 3 degrees of freedom: 30 is p ~ 1e-6)."},
    "baseline_adu": {"type": "number", "description": "Deprecated (use camera.baseline_adu): with any of these five flat fields and no camera object, the camera is stated: sCMOS, or EMCCD when em_gain > 1."},
    "e_per_adu": {"type": "number", "description": "Deprecated: camera.e_per_adu."},
    "qe": {"type": "number", "description": "Deprecated: camera.qe."},
    "read_noise_e": {"type": "number", "description": "Deprecated: camera.read_noise_e."},
    "em_gain": {"type": "number", "description": "Deprecated: camera.em_gain (> 1: EMCCD)."},
    )";

std::string make_schema() { return std::string(kSchemaHead) + spotflow::camera::kSchemaProperty + "\n  }\n}"; }

struct Detector {
    const spotflow_host* host;
    Settings settings;
    camera::Stated stated;
    double false_positives = 0.05;
    bool sigma_given = false;
    int roi_half_width = 0;
    bool ready = false;
    int64_t frames = 0, detections = 0;

    void warn(const std::string& m) const { host->log(host, SPOTFLOW_LOG_WARNING, ("detect.wavelet: " + m).c_str()); }
    void info(const std::string& m) const { host->log(host, SPOTFLOW_LOG_INFO, ("detect.wavelet: " + m).c_str()); }
    void record(const char* key, const nlohmann::json& v) const {
        // host->record is ABI 1.1; an older host has no slot for it.
        if (host->abi.minor >= 1 && host->record) host->record(host, key, v.dump().c_str());
    }
};

camera::Stated read_camera(const nlohmann::json& p) { return camera::parse_camera_params(p, {"baseline_adu", "e_per_adu", "qe", "read_noise_e", "em_gain"}); }

Detector make_detector(const spotflow_host* host, const char* params_json) {
    const auto p = nlohmann::json::parse(params_json);
    Detector det{};
    det.host = host;
    Settings& s = det.settings;
    try {
        det.stated = read_camera(p);
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    det.false_positives = p.value("false_positives_per_frame", 0.05);
    s.candidate_z = p.value("candidate_z", 4.0);
    s.contrast_threshold = p.value("threshold", 0.0);
    s.border = p.value("border_px", 1);
    det.sigma_given = p.contains("psf_sigma_px");
    s.fit.sigma = p.value("psf_sigma_px", 1.3);
    s.fit.fit_sigma = p.value("fit_sigma", false);
    det.roi_half_width = p.value("roi_half_width", 0);
    s.fit.half_width = det.roi_half_width > 0 ? det.roi_half_width : static_cast<int>(std::ceil(3 * s.fit.sigma));
    s.fit.max_iterations = p.value("max_iterations", 30);
    s.split_pairs = p.value("split_pairs", true);
    s.split_threshold = p.value("split_threshold", 30.0);
    s.camera = det.stated.camera;
    return det;
}

// On the first chunk: the camera (estimated, or stated and checked), the
// PSF width, the test's threshold, and what run.json records of them.
void prepare(Detector& d, const DLTensor& m) {
    const int64_t frames = m.shape[0];
    const int h = static_cast<int>(m.shape[1]), w = static_cast<int>(m.shape[2]);
    Settings& s = d.settings;
    const camera::PoissonScale identity{};
    camera::Sample sample(w, h, 64);
    for (int64_t t = 0; t < frames && !sample.full(); ++t) {
        const Image adu = to_counts(m, t, identity);
        sample.add([&](int64_t i) { return adu.pixels[static_cast<size_t>(i)]; });
    }
    const double median = sample.median();
    camera::Calibration cal;
    bool calibrated = false;
    int sigma_spots = 0;
    const bool estimate_sigma_here = !d.sigma_given && s.contrast_threshold == 0;
    double sigma = s.fit.sigma;
    s.llr_threshold = glrt_threshold(d.false_positives, static_cast<double>(w) * h);
    try {
        if (d.stated.estimate) {
            cal = estimate_camera(sample, m, s, d.stated.camera, &sigma, &sigma_spots);
            calibrated = true;
            s.camera = cal.camera;
            if (!cal.note.empty()) d.info(cal.note);
        } else {
            camera::check_against_data(d.stated.camera, median);
            try {
                double unused = sigma;
                int n = 0;
                cal = estimate_camera(sample, m, s, d.stated.camera, &unused, &n);
                calibrated = true;
            } catch (const std::invalid_argument& e) {
                d.info(std::string("the stated camera could not be checked against the movie: ") + e.what());
            }
            if (calibrated) {
                const std::string c = camera::contradiction(d.stated.camera, cal);
                if (!c.empty())
                    d.warn(c + "; the fit uses the stated camera: fix the camera param's fields, or set camera.kind "
                               "auto to use the movie's");
            }
        }
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
    }
    const camera::Camera& c = s.camera;
    const camera::PoissonScale scale = camera::poisson_scale(c);

    std::vector<Image> first;
    for (int64_t t = 0; t < std::min<int64_t>(frames, 16); ++t) first.push_back(to_counts(m, t, scale));
    if (estimate_sigma_here) {
        // With the final camera, windows and reach sized for the first
        // estimate's width.
        Settings probe = s;
        probe.fit.sigma = sigma;
        probe.fit.half_width = static_cast<int>(std::ceil(3 * sigma));
        sigma = estimate_sigma(first, probe, sigma, &sigma_spots);
        if (sigma_spots < 5)
            d.warn(fmt::format("only {} bright isolated spots in the first {} frames to estimate the PSF width from; "
                               "using psf_sigma_px {}: state psf_sigma_px if that is wrong",
                               sigma_spots, first.size(), sigma));
        s.fit.sigma = sigma;
        if (d.roi_half_width == 0) s.fit.half_width = static_cast<int>(std::ceil(3 * sigma));
    }

    // The camera check every run gets: the first plane's noise against the
    // model's prediction for it.
    double measured = 0, expected = 0;
    for (size_t t = 0; t < std::min<size_t>(first.size(), 4); ++t) {
        FrameNoise n;
        detect_frame(first[t], s, &n);
        measured += n.w1_measured, expected += n.w1_expected;
    }
    if (expected > 0 && measured > 0) {
        const double ratio = measured / expected;
        if (ratio > std::sqrt(2.0) || ratio < 1 / std::sqrt(2.0))
            d.warn(fmt::format("the movie's pixel noise (first wavelet plane sd {:.3g} counts) is {:.2f} x what the "
                               "camera model predicts ({:.3g}): its significance test is off; {}",
                               measured / 4, ratio, expected / 4,
                               d.stated.estimate ? "the estimated camera does not describe this movie: state it (param camera)"
                                                 : "fix the camera param's fields or set camera.kind auto"));
    }
    nlohmann::json cj = camera::to_json(c);
    cj["estimated"] = d.stated.estimate;
    if (calibrated) {
        cj["calibration"] = {{"frames", cal.frames},
                             {"ptc_slope_adu", cal.slope},
                             {"skew_ratio", cal.skew_ratio},
                             {"background_adu", cal.background_adu}};
        if (d.stated.estimate && c.kind == camera::Kind::Emccd && !d.stated.em_gain_stated)
            cj["em_gain_assumed"] = true; // only em_gain / e_per_adu is identifiable from noise
    }
    d.record("camera", cj);
    d.record("psf_sigma_px", {{"value", s.fit.sigma}, {"estimated", !d.sigma_given && s.contrast_threshold == 0},
                              {"spots", sigma_spots}});
    if (s.contrast_threshold == 0)
        d.record("detection_test", {{"false_positives_per_frame", d.false_positives}, {"llr_threshold", s.llr_threshold}});
    d.info(fmt::format("camera {} ({}): offset {:.1f} ADU, {:.3g} ADU per photo-electron, F^2 {}; PSF sigma {:.2f} px; "
                       "likelihood-ratio threshold {:.1f}",
                       c.kind == camera::Kind::Emccd ? "emccd" : "scmos", d.stated.estimate ? "estimated" : "stated",
                       c.baseline_adu, c.adu_per_electron(), c.excess_noise(), s.fit.sigma, s.llr_threshold));
    d.ready = true;
}

spotflow_status process(Detector& d, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter* out) {
    const DLTensor& m = in->tensor->dl_tensor;
    if (m.ndim != 3)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          "expected a T x H x W movie, got " + std::to_string(m.ndim) + " dimensions");
    if (!spotflow::is_compact(m)) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "the movie chunk is not compact");
    const int64_t frames = m.shape[0];
    if (frames > 0) {
        try {
            to_counts(m, 0, camera::PoissonScale{}); // the dtype check, before the threads start
        } catch (const std::invalid_argument&) {
            throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, "movie dtype " + spotflow::dtype_name(m.dtype) + " is not supported");
        }
        if (!d.ready) prepare(d, m);
    }
    const camera::PoissonScale scale = camera::poisson_scale(d.settings.camera);
    std::vector<std::vector<Detection>> found(static_cast<size_t>(frames));
    tbb::task_arena arena(std::max(1, d.host->threads(d.host)));
    arena.execute([&] {
        tbb::parallel_for(int64_t{0}, frames, [&](int64_t t) {
            if (d.host->is_cancelled(d.host)) return;
            found[static_cast<size_t>(t)] = detect_frame(to_counts(m, t, scale), d.settings);
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
            ++d.detections;
        }
    }
    d.frames += frames;
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    p.info = in->info;
    b.finish(&p.schema, &p.array);
    d.host->progress(d.host, in->info.frame_offset + frames, in->info.total_frames);
    return out->emit(out, 0, &p);
}

spotflow_status finish(Detector& d, const spotflow_emitter*) {
    // No silent empty result: fewer than one punctum per 10 frames is more
    // likely a wrong camera or criterion than an empty sample.
    if (d.frames > 0 && d.detections * 10 < d.frames) {
        const auto& c = d.settings.camera;
        const std::string camera_text =
            fmt::format("{} camera {}, offset {:.1f} ADU, {:.3g} ADU per photo-electron",
                        c.kind == camera::Kind::Emccd ? "emccd" : "scmos", d.stated.estimate ? "estimated" : "stated",
                        c.baseline_adu, c.adu_per_electron());
        d.warn(fmt::format("{} puncta in {} frames (fewer than one per 10 frames): the puncta may be too dim for the "
                           "criterion or the camera wrong ({}); {}",
                           d.detections, d.frames, camera_text,
                           d.settings.contrast_threshold > 0
                               ? fmt::format("lower threshold ({}) or drop it to use the likelihood-ratio test",
                                             d.settings.contrast_threshold)
                               : fmt::format("raise false_positives_per_frame ({}) or check the camera param and "
                                             "psf_sigma_px ({:.2f})",
                                             d.false_positives, d.settings.fit.sigma)));
    }
    return SPOTFLOW_OK;
}

const spotflow_port_desc kInputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "T x H x W camera counts (ADU), any integer or float type"}};
const spotflow_port_desc kOutputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y, photons, background, sigma, uncertainty (CRLB, px), probability"}};
constexpr char kDetecting[] = "detect.wavelet";
const spotflow_node_vtable kVtable =
    spotflow::node_vtable<spotflow::FunctionNode<Detector, make_detector, process, finish, kDetecting>>();
// The schema embeds libs/camera's camera object.
const std::string kSchema = make_schema();

} // namespace

const spotflow_plugin_desc kDesc = {
    "detect.wavelet", "2.0.0",
    "Wavelet candidates, a likelihood-ratio test per candidate under the camera's noise model (camera estimated "
    "from the movie by default), and multi-emitter MLE fits with CRLB uncertainties",
    "detector", kInputs, 1, 1, kOutputs, kSchema.c_str(), &kVtable, nullptr};

} // namespace detect_wavelet

SPOTFLOW_EXPORT_PLUGINS(detect_wavelet::kDesc);

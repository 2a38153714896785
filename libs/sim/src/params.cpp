#include "spotflow_sim/params.hpp"

#include <cmath>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"

namespace sim {

using spotflow::PluginError;

const char* const kPhysicsSchemaProperties = R"(
    "num_frames": {"type": "integer", "minimum": 1, "maximum": 10000000, "default": 100,
      "description": "Frames in the movie."},
    "image_size": {"type": "integer", "minimum": 1, "maximum": 16384, "default": 256,
      "description": "Width and height of the square field of view, pixels."},
    "num_tracks": {"type": "integer", "minimum": 0, "maximum": 10000000, "default": 20,
      "description": "Tracks present at frame 0; with mean_lifetime_frames > 0 also the stationary mean number of live tracks."},
    "num_tracks_poisson": {"type": "boolean", "default": false,
      "description": "Draw each movie's track count from a Poisson law of mean num_tracks (seed 001's num_puncta_mean), from the movie's own seed."},
    "photons": {"type": "number", "minimum": 0, "maximum": 1e8, "default": 2000,
      "description": "Mean photons per frame that reach the camera from one emitter (before QE), over all emitters."},
    "photons_cv": {"type": "number", "minimum": 0, "maximum": 100, "default": 0.2,
      "description": "Coefficient of variation of the per-emitter mean photon count across emitters; 0: every emitter has mean photons."},
    "photons_distribution": {"type": "string", "enum": ["lognormal", "gamma"], "default": "lognormal",
      "description": "Distribution of the per-emitter mean photon count (mean photons, CV photons_cv)."},
    "psf_sigma_px": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 1.3,
      "description": "Standard deviation of the Gaussian PSF, pixels (used unless psf_sigma_nm > 0)."},
    "psf_sigma_nm": {"type": "number", "minimum": 0, "maximum": 100000, "default": 0,
      "description": "Standard deviation of the Gaussian PSF in nm; > 0 overrides psf_sigma_px through pixel_size_nm."},
    "pixel_size_nm": {"type": "number", "exclusiveMinimum": 0, "default": 108,
      "description": "Pixel size in the sample plane, nm; written to the stream info and the TIFF calibration."},
    "frame_interval_s": {"type": "number", "exclusiveMinimum": 0, "default": 0.05,
      "description": "Time between frames, s; written to the stream info and the TIFF calibration."},
    "diffusion_px2_per_frame": {"type": "number", "minimum": 0, "maximum": 10000, "default": 0.05,
      "description": "Diffusion coefficient D, px^2 per frame: each frame every axis moves by a N(0, 2D) step."},
    "directed_fraction": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2,
      "description": "Fraction of tracks that also drift at speed_px_per_frame in a random fixed direction."},
    "speed_px_per_frame": {"type": "number", "minimum": 0, "maximum": 10000, "default": 0.5,
      "description": "Speed of the directed tracks, px per frame."},
    "confined_fraction": {"type": "number", "minimum": 0, "maximum": 1, "default": 0,
      "description": "Fraction of tracks (not directed ones; directed_fraction + confined_fraction <= 1) that diffuse inside a disc of radius confinement_radius_px around their start, reflected at its edge."},
    "confinement_radius_px": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000, "default": 2.0,
      "description": "Radius of a confined track's disc, px."},
    "mean_lifetime_frames": {"type": "number", "minimum": 0, "maximum": 1e9, "default": 0,
      "description": "Mean track lifetime, frames (geometric lifetimes, births at rate num_tracks / mean_lifetime_frames per frame); 0: every track spans the movie."},
    "boundary": {"type": "string", "enum": ["reflect", "end"], "default": "reflect",
      "description": "reflect: emitters bounce off the lines margin_px inside the image edges; end: a track ends when its emitter leaves the image."},
    "margin_px": {"type": "number", "minimum": 0, "maximum": 100000, "default": 4,
      "description": "Emitters start (and with boundary reflect, stay) at least this far from the centres of the edge pixels."},
    "blink_off_probability": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.02,
      "description": "Probability per frame that a visible emitter turns dark."},
    "blink_on_probability": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
      "description": "Probability per frame that a dark emitter turns visible again."},
    "background": {"type": "number", "minimum": 0, "maximum": 1e6, "default": 10,
      "description": "Background photons per pixel per frame (mean over the image)."},
    "background_gradient": {"type": "number", "minimum": -2, "maximum": 2, "default": 0,
      "description": "Relative change of the background from the top-left to the bottom-right corner (a linear ramp; 0.5: from 0.75 to 1.25 times background)."},
    "background_drift": {"type": "number", "minimum": -1, "default": 0,
      "description": "Relative change of the background from the first to the last frame, linear in time (-0.3: 30% lower at the end)."},
    "camera": {"type": "string", "enum": ["scmos", "emccd"], "default": "scmos",
      "description": "Camera model: scmos (Poisson electrons plus Gaussian read noise) or emccd (also gamma-distributed EM gain, excess noise factor 2)."},
    "qe": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.9,
      "description": "Quantum efficiency: the fraction of photons that become photoelectrons."},
    "baseline_adu": {"type": "number", "minimum": 0, "maximum": 1e9, "default": 100,
      "description": "Camera offset added to every pixel, ADU."},
    "e_per_adu": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6, "default": 0.5,
      "description": "Conversion gain, electrons per ADU (after the EM register for emccd)."},
    "read_noise_e": {"type": "number", "minimum": 0, "maximum": 1e6, "default": 1.5,
      "description": "Standard deviation of the Gaussian read noise per pixel, electrons."},
    "em_gain": {"type": "number", "minimum": 1, "maximum": 1e5, "default": 100,
      "description": "Mean EM gain (emccd only)."},
    "calcium": {"type": "boolean", "default": false,
      "description": "Also simulate the calcium channel (channel 1) and its ground-truth transients."},
    "calcium_photons": {"type": "number", "minimum": 0, "maximum": 1e8, "default": 500,
      "description": "Resting calcium signal F0 of a punctum, mean photons per frame (spread across puncta by photons_cv)."},
    "calcium_sigma_px": {"type": "number", "minimum": 0, "maximum": 100, "default": 2.0,
      "description": "Standard deviation of the Gaussian calcium blob around a punctum, pixels; 0: the puncta PSF."},
    "calcium_background": {"type": "number", "minimum": 0, "maximum": 1e6, "default": 10,
      "description": "Background photons per pixel per frame in the calcium channel (same gradient and drift as the movie)."},
    "event_rate": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.01,
      "description": "Probability per frame that a live track starts a calcium transient (outside its refractory period)."},
    "rise_frames": {"type": "integer", "minimum": 0, "default": 2,
      "description": "Frames from a transient's onset to its peak (linear rise)."},
    "decay_frames": {"type": "number", "exclusiveMinimum": 0, "default": 8,
      "description": "Time constant tau of the exponential decay after the peak, frames."},
    "amplitude_dff_min": {"type": "number", "minimum": 0, "default": 0.5,
      "description": "Smallest transient amplitude, as dF/F0 at the peak (amplitudes are uniform in [min, max])."},
    "amplitude_dff_max": {"type": "number", "minimum": 0, "default": 2.0,
      "description": "Largest transient amplitude, as dF/F0 at the peak."},
    "event_refractory_frames": {"type": "number", "minimum": 0, "default": 20,
      "description": "Frames after an onset during which the same track starts no new transient."},
    "chunk_frames": {"type": "integer", "minimum": 1, "default": 16,
      "description": "Frames simulated (and, for sim.tirf, emitted) per chunk; the result does not depend on it."},
    "seed": {"type": "integer", "minimum": -1, "default": -1,
      "description": "Seed of the simulation; -1: the run's seed for this node (host seed)."})";

namespace {

[[noreturn]] void bad(const std::string& name, const std::string& why) {
    throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("param '{}' {}", name, why));
}

const nlohmann::json& field(const nlohmann::json& j, const std::string& name) {
    const auto it = j.find(name);
    if (it == j.end()) bad(name, "is missing");
    return *it;
}

double number(const nlohmann::json& j, const std::string& name) {
    const auto& v = field(j, name);
    if (!v.is_number()) bad(name, "must be a number, got " + v.dump());
    const double d = v.get<double>();
    if (!std::isfinite(d)) bad(name, "must be finite");
    return d;
}

int64_t integer(const nlohmann::json& j, const std::string& name) {
    const auto& v = field(j, name);
    if (!v.is_number_integer()) bad(name, "must be an integer, got " + v.dump());
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) bad(name, "is too large");
    return v.get<int64_t>();
}

bool boolean(const nlohmann::json& j, const std::string& name) {
    const auto& v = field(j, name);
    if (!v.is_boolean()) bad(name, "must be true or false, got " + v.dump());
    return v.get<bool>();
}

std::string choice(const nlohmann::json& j, const std::string& name, std::initializer_list<const char*> allowed) {
    const auto& v = field(j, name);
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    if (!v.is_string()) bad(name, "must be one of " + list + ", got " + v.dump());
    const std::string s = v.get<std::string>();
    for (const char* a : allowed)
        if (s == a) return s;
    bad(name, "must be one of " + list + ", got '" + s + "'");
}

void at_least(const std::string& name, double v, double lo) {
    if (v < lo) bad(name, fmt::format("must be >= {}, got {}", lo, v));
}
void positive(const std::string& name, double v) {
    if (!(v > 0)) bad(name, fmt::format("must be > 0, got {}", v));
}
void within(const std::string& name, double v, double lo, double hi) {
    if (v < lo || v > hi) bad(name, fmt::format("must be in [{}, {}], got {}", lo, hi, v));
}

} // namespace

SimParams parse_params(const nlohmann::json& j) {
    if (!j.is_object()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "params must be a JSON object");
    SimParams p;
    p.num_frames = integer(j, "num_frames");
    at_least("num_frames", static_cast<double>(p.num_frames), 1);
    p.image_size = integer(j, "image_size");
    within("image_size", static_cast<double>(p.image_size), 1, 16384);
    p.num_tracks = integer(j, "num_tracks");
    p.num_tracks_poisson = j.contains("num_tracks_poisson") && boolean(j, "num_tracks_poisson");
    at_least("num_tracks", static_cast<double>(p.num_tracks), 0);
    // The caps keep a pixel's electron count far inside int32.
    p.photons = number(j, "photons");
    within("photons", p.photons, 0, 1e8);
    p.photons_cv = number(j, "photons_cv");
    at_least("photons_cv", p.photons_cv, 0);
    p.photons_distribution =
        choice(j, "photons_distribution", {"lognormal", "gamma"}) == "gamma" ? Spread::Gamma : Spread::Lognormal;
    p.psf_sigma_px = number(j, "psf_sigma_px");
    positive("psf_sigma_px", p.psf_sigma_px);
    p.psf_sigma_nm = number(j, "psf_sigma_nm");
    at_least("psf_sigma_nm", p.psf_sigma_nm, 0);
    p.pixel_size_nm = number(j, "pixel_size_nm");
    positive("pixel_size_nm", p.pixel_size_nm);
    p.frame_interval_s = number(j, "frame_interval_s");
    positive("frame_interval_s", p.frame_interval_s);
    p.diffusion_px2_per_frame = number(j, "diffusion_px2_per_frame");
    at_least("diffusion_px2_per_frame", p.diffusion_px2_per_frame, 0);
    p.directed_fraction = number(j, "directed_fraction");
    within("directed_fraction", p.directed_fraction, 0, 1);
    p.speed_px_per_frame = number(j, "speed_px_per_frame");
    at_least("speed_px_per_frame", p.speed_px_per_frame, 0);
    // Optional (params written before confinement existed lack them): a
    // metadata.json of an older dataset still regenerates its sample.
    if (j.contains("confined_fraction")) p.confined_fraction = number(j, "confined_fraction");
    within("confined_fraction", p.confined_fraction, 0, 1);
    if (p.directed_fraction + p.confined_fraction > 1 + 1e-12)
        bad("confined_fraction", fmt::format("({}) plus directed_fraction ({}) exceeds 1: a track is directed or confined, not both",
                                             p.confined_fraction, p.directed_fraction));
    if (j.contains("confinement_radius_px")) p.confinement_radius_px = number(j, "confinement_radius_px");
    positive("confinement_radius_px", p.confinement_radius_px);
    p.mean_lifetime_frames = number(j, "mean_lifetime_frames");
    if (p.mean_lifetime_frames != 0 && p.mean_lifetime_frames < 1)
        bad("mean_lifetime_frames", fmt::format("must be 0 (tracks span the movie) or >= 1, got {}",
                                                p.mean_lifetime_frames));
    p.boundary = choice(j, "boundary", {"reflect", "end"}) == "end" ? Boundary::End : Boundary::Reflect;
    p.margin_px = number(j, "margin_px");
    at_least("margin_px", p.margin_px, 0);
    if (2 * p.margin_px > static_cast<double>(p.image_size - 1))
        bad("margin_px", fmt::format("{} leaves no room for emitters in a {} px image", p.margin_px, p.image_size));
    p.blink_off_probability = number(j, "blink_off_probability");
    within("blink_off_probability", p.blink_off_probability, 0, 1);
    p.blink_on_probability = number(j, "blink_on_probability");
    within("blink_on_probability", p.blink_on_probability, 0, 1);
    p.background = number(j, "background");
    within("background", p.background, 0, 1e6);
    p.background_gradient = number(j, "background_gradient");
    within("background_gradient", p.background_gradient, -2, 2);
    p.background_drift = number(j, "background_drift");
    at_least("background_drift", p.background_drift, -1);

    CameraParams& c = p.camera;
    c.kind = choice(j, "camera", {"scmos", "emccd"}) == "emccd" ? CameraKind::Emccd : CameraKind::Scmos;
    c.qe = number(j, "qe");
    if (!(c.qe > 0 && c.qe <= 1)) bad("qe", fmt::format("must be in (0, 1], got {}", c.qe));
    c.baseline_adu = number(j, "baseline_adu");
    within("baseline_adu", c.baseline_adu, 0, 65535);
    c.e_per_adu = number(j, "e_per_adu");
    positive("e_per_adu", c.e_per_adu);
    c.read_noise_e = number(j, "read_noise_e");
    at_least("read_noise_e", c.read_noise_e, 0);
    c.em_gain = number(j, "em_gain");
    at_least("em_gain", c.em_gain, 1);

    CalciumParams& ca = p.calcium;
    ca.enabled = boolean(j, "calcium");
    ca.photons = number(j, "calcium_photons");
    within("calcium_photons", ca.photons, 0, 1e8);
    ca.sigma_px = number(j, "calcium_sigma_px");
    at_least("calcium_sigma_px", ca.sigma_px, 0);
    ca.background = number(j, "calcium_background");
    within("calcium_background", ca.background, 0, 1e6);
    ca.event_rate = number(j, "event_rate");
    within("event_rate", ca.event_rate, 0, 1);
    ca.rise_frames = integer(j, "rise_frames");
    at_least("rise_frames", static_cast<double>(ca.rise_frames), 0);
    ca.decay_frames = number(j, "decay_frames");
    positive("decay_frames", ca.decay_frames);
    ca.amplitude_dff_min = number(j, "amplitude_dff_min");
    at_least("amplitude_dff_min", ca.amplitude_dff_min, 0);
    ca.amplitude_dff_max = number(j, "amplitude_dff_max");
    if (ca.amplitude_dff_max < ca.amplitude_dff_min)
        bad("amplitude_dff_max", fmt::format("({}) is below amplitude_dff_min ({})", ca.amplitude_dff_max,
                                             ca.amplitude_dff_min));
    ca.refractory_frames = number(j, "event_refractory_frames");
    at_least("event_refractory_frames", ca.refractory_frames, 0);

    p.chunk_frames = integer(j, "chunk_frames");
    at_least("chunk_frames", static_cast<double>(p.chunk_frames), 1);
    p.seed = integer(j, "seed");
    at_least("seed", static_cast<double>(p.seed), -1);
    return p;
}

nlohmann::json to_json(const SimParams& p) {
    const CameraParams& c = p.camera;
    const CalciumParams& ca = p.calcium;
    return {
        {"num_frames", p.num_frames},
        {"image_size", p.image_size},
        {"num_tracks", p.num_tracks},
        {"num_tracks_poisson", p.num_tracks_poisson},
        {"photons", p.photons},
        {"photons_cv", p.photons_cv},
        {"photons_distribution", p.photons_distribution == Spread::Gamma ? "gamma" : "lognormal"},
        {"psf_sigma_px", p.psf_sigma_px},
        {"psf_sigma_nm", p.psf_sigma_nm},
        {"pixel_size_nm", p.pixel_size_nm},
        {"frame_interval_s", p.frame_interval_s},
        {"diffusion_px2_per_frame", p.diffusion_px2_per_frame},
        {"directed_fraction", p.directed_fraction},
        {"speed_px_per_frame", p.speed_px_per_frame},
        {"confined_fraction", p.confined_fraction},
        {"confinement_radius_px", p.confinement_radius_px},
        {"mean_lifetime_frames", p.mean_lifetime_frames},
        {"boundary", p.boundary == Boundary::End ? "end" : "reflect"},
        {"margin_px", p.margin_px},
        {"blink_off_probability", p.blink_off_probability},
        {"blink_on_probability", p.blink_on_probability},
        {"background", p.background},
        {"background_gradient", p.background_gradient},
        {"background_drift", p.background_drift},
        {"camera", c.kind == CameraKind::Emccd ? "emccd" : "scmos"},
        {"qe", c.qe},
        {"baseline_adu", c.baseline_adu},
        {"e_per_adu", c.e_per_adu},
        {"read_noise_e", c.read_noise_e},
        {"em_gain", c.em_gain},
        {"calcium", ca.enabled},
        {"calcium_photons", ca.photons},
        {"calcium_sigma_px", ca.sigma_px},
        {"calcium_background", ca.background},
        {"event_rate", ca.event_rate},
        {"rise_frames", ca.rise_frames},
        {"decay_frames", ca.decay_frames},
        {"amplitude_dff_min", ca.amplitude_dff_min},
        {"amplitude_dff_max", ca.amplitude_dff_max},
        {"event_refractory_frames", ca.refractory_frames},
        {"chunk_frames", p.chunk_frames},
        {"seed", p.seed},
    };
}

} // namespace sim

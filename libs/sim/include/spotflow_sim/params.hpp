// The simulator's parameters: one struct for every physics setting shared by
// sim.tirf and sim.dataset, read from the params JSON and checked, each
// error naming the param.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "spotflow_camera/camera.hpp"

namespace sim {

// The camera is libs/camera's model, the one every detector reads movies with.
using CameraKind = spotflow::camera::Kind;
using CameraParams = spotflow::camera::Camera;
enum class Boundary { Reflect, End };
enum class Spread { Lognormal, Gamma };

struct CalciumParams {
    bool enabled = false;
    double photons = 500;       // F0: the punctum's resting calcium signal, photons per frame
    double sigma_px = 2.0;      // width of the calcium blob; 0: the puncta PSF
    double background = 10;     // photons per pixel per frame
    double event_rate = 0.01;   // onsets per track per frame
    int64_t rise_frames = 2;   // onset to peak, linear
    double decay_frames = 8;    // tau of the exponential decay
    double amplitude_dff_min = 0.5;
    double amplitude_dff_max = 2.0;
    double refractory_frames = 20;
};

struct SimParams {
    int64_t num_frames = 100;
    int64_t image_size = 256;
    int64_t num_tracks = 20;
    bool num_tracks_poisson = false; // num_tracks is the mean of a Poisson count per movie
    double photons = 2000;
    double photons_cv = 0.2;
    Spread photons_distribution = Spread::Lognormal;
    double psf_sigma_px = 1.3;
    double psf_sigma_nm = 0;
    double pixel_size_nm = 108;
    double frame_interval_s = 0.05;
    double diffusion_px2_per_frame = 0.05;
    double directed_fraction = 0.2;
    double speed_px_per_frame = 0.5;
    double confined_fraction = 0;       // tracks diffusing inside a disc around their start
    double confinement_radius_px = 2.0; // that disc's radius
    double mean_lifetime_frames = 0;
    Boundary boundary = Boundary::Reflect;
    double margin_px = 4;
    double blink_off_probability = 0.02;
    double blink_on_probability = 0.5;
    double background = 10;
    double background_gradient = 0;
    double background_drift = 0;
    CameraParams camera;
    CalciumParams calcium;
    int64_t chunk_frames = 16;
    int64_t seed = -1;

    // The PSF sigma in pixels: psf_sigma_nm / pixel_size_nm when psf_sigma_nm > 0.
    double sigma_px() const { return psf_sigma_nm > 0 ? psf_sigma_nm / pixel_size_nm : psf_sigma_px; }
    double calcium_sigma_px() const { return calcium.sigma_px > 0 ? calcium.sigma_px : sigma_px(); }
};

// The "properties" members of both plugins' schemas, as JSON text without
// the enclosing braces.
extern const char* const kPhysicsSchemaProperties;

// Reads and checks every physics param; throws spotflow::PluginError
// (INVALID_ARGUMENT) naming the first bad one.
SimParams parse_params(const nlohmann::json& j);

// Every physics param as sim.tirf takes it: a sample's metadata, and params
// that regenerate it.
nlohmann::json to_json(const SimParams& p);

} // namespace sim

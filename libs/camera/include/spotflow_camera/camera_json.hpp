// The `camera` param object detectors embed in their schema, read and
// checked against the data.
#pragma once

#include <string>

#include <initializer_list>

#include <nlohmann/json.hpp>

#include "spotflow_camera/camera.hpp"

namespace spotflow::camera {

// `"camera": {...}` as a JSON schema property (the text a schema's
// "properties" object includes, without a trailing comma): kind
// auto | scmos | emccd (default auto: estimate from the movie) and the
// fields qe, baseline_adu, e_per_adu, read_noise_e, em_gain.
extern const char* const kSchemaProperty;

struct Stated {
    bool estimate = true; // kind auto: calibrate from the movie
    Camera camera;        // the stated fields over the defaults (qe is used either way)
    bool em_gain_stated = false;
};

// Reads a `camera` object (missing: kind auto). Throws
// std::invalid_argument naming the field ("camera.e_per_adu must be > 0,
// got -1") for impossible numbers. Thread-safe (pure).
Stated parse_camera(const nlohmann::json& j);

// Reads a detector's params: its `camera` object, or else the flat camera
// fields of the detector's 1.x params (`flat_fields`, e.g. baseline_adu,
// e_per_adu, qe, em_gain): any of them states the camera, an EMCCD when
// em_gain > 1; none of them, kind auto. Throws as parse_camera.
// Thread-safe (pure).
Stated parse_camera_params(const nlohmann::json& params, std::initializer_list<const char*> flat_fields);

// Checks a camera against the movie's median ADU: an offset at or above it
// leaves no signal. Throws std::invalid_argument naming camera.baseline_adu.
void check_against_data(const Camera& c, double median_adu);

// The camera as run.json records it.
nlohmann::json to_json(const Camera& c);

} // namespace spotflow::camera

#include "spotflow_camera/camera_json.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace spotflow::camera {

const char* const kSchemaProperty = R"("camera": {
      "type": "object",
      "additionalProperties": false,
      "description": "The camera (docs/camera.md). kind auto (default) estimates offset, gain, read noise and the kind from the movie itself; scmos or emccd uses the fields given (defaults: the simulator's) and warns when the movie's noise contradicts them by more than 2x.",
      "properties": {
        "kind": {"type": "string", "enum": ["auto", "scmos", "emccd"], "default": "auto"},
        "qe": {"type": "number", "default": 0.9, "description": "Quantum efficiency: photons = photo-electrons / qe (used with every kind)."},
        "baseline_adu": {"type": "number", "default": 100, "description": "Offset, ADU."},
        "e_per_adu": {"type": "number", "default": 0.5, "description": "Conversion gain, electrons per ADU at the output (after the EM register)."},
        "read_noise_e": {"type": "number", "default": 1.5, "description": "Read noise, rms electrons at the output."},
        "em_gain": {"type": "number", "default": 100, "description": "Mean EM gain (emccd)."}
      }
    })";

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
    throw std::invalid_argument(fmt::format("param 'camera.{}' {}", field, why));
}

double number(const nlohmann::json& j, const char* name, double fallback) {
    const auto it = j.find(name);
    if (it == j.end()) return fallback;
    if (!it->is_number()) bad(name, "must be a number, got " + it->dump());
    const double v = it->get<double>();
    if (!std::isfinite(v)) bad(name, "must be finite");
    return v;
}

} // namespace

Stated parse_camera(const nlohmann::json& j) {
    Stated s;
    if (j.is_null()) return s;
    if (!j.is_object()) throw std::invalid_argument("param 'camera' must be an object, got " + j.dump());
    const std::string kind = j.value("kind", std::string("auto"));
    if (kind != "auto" && kind != "scmos" && kind != "emccd")
        bad("kind", "must be auto, scmos or emccd, got '" + kind + "'");
    s.estimate = kind == "auto";
    Camera& c = s.camera;
    c.kind = kind == "emccd" ? Kind::Emccd : Kind::Scmos;
    c.qe = number(j, "qe", c.qe);
    c.baseline_adu = number(j, "baseline_adu", c.baseline_adu);
    c.e_per_adu = number(j, "e_per_adu", c.e_per_adu);
    c.read_noise_e = number(j, "read_noise_e", c.read_noise_e);
    c.em_gain = number(j, "em_gain", c.em_gain);
    s.em_gain_stated = j.contains("em_gain");
    if (!(c.qe > 0 && c.qe <= 1)) bad("qe", fmt::format("must be in (0, 1], got {}", c.qe));
    if (!(c.e_per_adu > 0)) bad("e_per_adu", fmt::format("must be > 0 (electrons per ADU), got {}", c.e_per_adu));
    if (c.read_noise_e < 0) bad("read_noise_e", fmt::format("must be >= 0, got {}", c.read_noise_e));
    if (c.baseline_adu < 0) bad("baseline_adu", fmt::format("must be >= 0, got {}", c.baseline_adu));
    if (c.kind == Kind::Emccd && !(c.em_gain >= 1))
        bad("em_gain", fmt::format("must be >= 1 for an EMCCD, got {}", c.em_gain));
    if (!(c.em_gain > 0)) bad("em_gain", fmt::format("must be > 0, got {}", c.em_gain));
    return s;
}

void check_against_data(const Camera& c, double median_adu) {
    if (c.baseline_adu >= median_adu)
        bad("baseline_adu", fmt::format("({} ADU) is at or above the movie's median ({} ADU): no pixel would carry "
                                        "signal; state the camera's offset, or use kind auto to estimate it",
                                        c.baseline_adu, median_adu));
}

nlohmann::json to_json(const Camera& c) {
    nlohmann::json j = {{"kind", c.kind == Kind::Emccd ? "emccd" : "scmos"},
                        {"qe", c.qe},
                        {"baseline_adu", c.baseline_adu},
                        {"e_per_adu", c.e_per_adu},
                        {"read_noise_e", c.read_noise_e},
                        {"adu_per_electron", c.adu_per_electron()}};
    if (c.kind == Kind::Emccd) j["em_gain"] = c.em_gain;
    return j;
}

Stated parse_camera_params(const nlohmann::json& p, std::initializer_list<const char*> flat_fields) {
    if (p.contains("camera")) return parse_camera(p.at("camera"));
    nlohmann::json c = nlohmann::json::object();
    for (const char* f : flat_fields)
        if (p.contains(f)) c[f] = p.at(f);
    if (c.empty()) return parse_camera(nlohmann::json());
    const double g = c.value("em_gain", 1.0);
    c["kind"] = g > 1 ? "emccd" : "scmos";
    if (g <= 1) c.erase("em_gain");
    return parse_camera(c);
}

} // namespace spotflow::camera

// The network's input normalisation: camera counts (ADU) to the units the
// network sees, and its photon and background outputs back to photons.
// One home for detect.decode (the movie) and train.decode (the simulated
// windows), so both apply the same transform through libs/camera's model.
//
//   "photons" (weights before issue 13): units = photons,
//       (adu - offset) x e_per_adu / gain / qe; an EMCCD's doubled shot
//       noise is left in, so a network trained on an sCMOS sees twice the
//       variance it learned on an EMCCD.
//   "poisson_counts" (issue 13): units = libs/camera's Poisson-equivalent
//       counts u, variance = mean on every camera (sCMOS: electrons + read
//       variance; EMCCD: electrons / F^2 with F^2 = 2, Mortensen et al.
//       2010), so one network serves every camera. photons = (u - shift)
//       x F^2 / qe for the background, u x F^2 / qe for a punctum's signal.
//
// Plain values, thread-safe.
#pragma once

#include <string>

#include "spotflow_camera/camera.hpp"

namespace decode {

enum class Normalisation { Photons, PoissonCounts };

// "photons" | "poisson_counts"; throws std::invalid_argument otherwise.
Normalisation normalisation_from(const std::string& name);
const char* normalisation_name(Normalisation n);

struct InputTransform {
    double offset = 0, scale = 1, shift = 0; // units = (adu - offset) x scale + shift
    double photons_per_unit = 1;             // a punctum's signal: photons = units x this
    double units(double adu) const { return (adu - offset) * scale + shift; }
    // Background in units per px to photons per px, and back.
    double background_photons(double u) const { return (u - shift) * photons_per_unit; }
    double background_units(double photons) const { return photons / photons_per_unit + shift; }
};

InputTransform input_transform(Normalisation n, const spotflow::camera::Camera& c);

} // namespace decode

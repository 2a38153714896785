// Photoelectrons to camera counts (ADU): the noise draws of libs/camera's
// model (spotflow_camera/camera.hpp, which detectors invert).
//   sCMOS: ADU = baseline + (n + read noise) / e_per_adu
//   EMCCD: ADU = baseline + (Gamma(n, em_gain) + read noise) / e_per_adu
// rounded to the nearest integer and clipped to [0, 65535]. The EM register
// turns n electrons into the sum of n exponential cascades of mean em_gain,
// Gamma(n, em_gain); its variance n em_gain^2 adds to the Poisson variance of
// n, doubling the shot noise: the excess noise factor F^2 = 2.
#pragma once

#include <cstdint>
#include <memory>

#include "spotflow_sim/params.hpp"
#include "spotflow_sim/random.hpp"

namespace sim {

class Camera {
public:
    explicit Camera(const CameraParams& c) : c_(c) {}
    uint16_t operator()(Rng& rng, int64_t electrons) const {
        double signal = static_cast<double>(electrons);
        if (c_.kind == CameraKind::Emccd)
            signal = electrons > 0 ? c_.em_gain * gamma(rng, normal_, signal) : 0.0;
        if (c_.read_noise_e > 0) signal += c_.read_noise_e * normal_(rng);
        return to_adu(c_.adu_from_output_electrons(signal));
    }
    static uint16_t to_adu(double v) {
        if (!(v > 0)) return 0;
        if (v >= 65535.0) return 65535;
        return static_cast<uint16_t>(v + 0.5);
    }

private:
    CameraParams c_;
    Normal normal_;
};

// The exact ADU distribution of an sCMOS pixel that sees only a uniform
// background (Poisson(qe x photons) electrons, Gaussian read noise, rounding,
// clipping), for drawing such pixels with one table look-up. NULL for EMCCD
// and for a background too bright to tabulate cheaply.
std::unique_ptr<DiscreteSampler> background_adu(const CameraParams& c, double photons_per_pixel);

} // namespace sim

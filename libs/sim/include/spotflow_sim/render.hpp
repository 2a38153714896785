// One camera frame from the expected photons: Poisson photon noise, quantum
// efficiency, the camera (camera.hpp), uint16 ADU.
//
// The photons of a spot of mean N split into independent Poisson counts per
// pixel (mean N x qe x PSF weight for the detected ones) plus one Poisson
// count for the rest (undetected, beyond the PSF window, or off the image).
// By the splitting property of the Poisson process their sum, the photons the
// spot actually emitted this frame, is Poisson(N), and the detected pixels
// follow exactly the multinomial split of it: the same law as drawing the
// total first.
#pragma once

#include <cstdint>
#include <vector>

#include "spotflow_sim/params.hpp"
#include "spotflow_sim/random.hpp"
#include "spotflow_sim/rng.hpp"

namespace sim {

struct Spot {
    double x = 0, y = 0;
    double mean_photons = 0;
};

struct FrameModel {
    int64_t size = 0;            // square image, pixels
    double sigma_px = 1;         // PSF
    double background = 0;       // photons per pixel this frame, image mean
    double gradient = 0;         // relative ramp, top-left to bottom-right
    CameraParams camera;
    // With a uniform background on an sCMOS camera: the exact ADU law of a
    // pixel without signal (background_adu() in camera.hpp), so that those
    // pixels cost one table look-up. NULL: every pixel goes through the chain.
    const DiscreteSampler* background_adu = nullptr;
};

// Background photons per pixel at (x, y): the ramp of background_gradient
// along the diagonal, centred on the image mean.
double background_at(const FrameModel& m, int64_t x, int64_t y);

// Renders one frame into out (size x size, row-major) and returns, per spot,
// the photons it emitted this frame.
std::vector<int64_t> render_frame(const FrameModel& m, const std::vector<Spot>& spots, Rng& rng, uint16_t* out);

} // namespace sim

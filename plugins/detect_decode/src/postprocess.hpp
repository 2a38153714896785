// DECODE's post-processing (SpatialIntegration in decode/neuralfitter/
// post_processing.py), on one frame's output maps. Plain C++: no LibTorch.
#pragma once

#include <cstdint>
#include <vector>

namespace decode {

struct PostSettings {
    double detection_threshold = 0.5; // on the integrated probability
    double candidate_threshold = 0.1; // DECODE's raw_th: local maxima of p above it are candidates
    double split_threshold = 0.6;     // non-maximum pixels above it become detections too (adjacent emitters)
    double photon_scale = 1000;       // output unit of photons and their sigma
    double background_scale = 20;     // output unit of the background (photons / px)
    int64_t border_px = 0;            // ignore pixels this close to the edge
};

struct Localisation {
    double x = 0, y = 0; // px, spotflow conventions
    double photons = 0, background = 0, probability = 0;
    double x_sigma = 0, y_sigma = 0, photons_sigma = 0;
};

// maps: kChannels planes of h x w (channel-major, as the network's output
// for one frame). Returns the detections in raster order of their pixel.
std::vector<Localisation> postprocess(const float* maps, int64_t h, int64_t w, const PostSettings& s);

} // namespace decode

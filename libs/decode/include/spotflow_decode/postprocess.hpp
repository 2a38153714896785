// DECODE's post-processing (SpatialIntegration in decode/neuralfitter/
// post_processing.py), on one frame's output maps. Plain C++: no LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace decode {

// Which neighbours of a candidate its probability is summed over.
enum class Integration {
    Plus,   // DECODE's SpatialIntegration: the pixel and its 4 edge neighbours
    Square, // the full 3x3: also the diagonal pixel of a 2x2 block
};

// Where a detection's x and y come from.
enum class Position {
    Pixel,   // DECODE: the candidate pixel's centre + its predicted offset
    Mixture, // the 3x3 pixels whose predictions agree with it, weighted p / sigma^2
};

struct PostSettings {
    double detection_threshold = 0.5; // on the integrated probability
    double candidate_threshold = 0.1; // DECODE's raw_th: local maxima of p above it are candidates
    double split_threshold = 0.6;     // non-maximum pixels above it become detections too (adjacent emitters)
    double photon_scale = 1000;       // output unit of photons and their sigma
    double background_scale = 20;     // output unit of the background (photons / px)
    int64_t border_px = 0;            // ignore pixels this close to the edge
    // Square by default: an emitter near a pixel corner spreads p over a 2x2
    // block, and the plus shape leaves that block's diagonal pixel out (see
    // docs/decode.md, "Post-processing").
    Integration integration = Integration::Square;
    // Each pixel near an emitter predicts its position (a component of
    // DECODE's Gaussian mixture); combining the agreeing components by their
    // precision cut the RMSE by 5-7 % (docs/decode.md, "Post-processing").
    Position position = Position::Mixture;
    double agree_px = 0.5; // components (and adjacent candidates) this close are the same emitter
    // Adjacent candidates whose positions agree within agree_px are one
    // detection (DECODE keeps both: a twin of an emitter on a pixel boundary).
    bool merge_agreeing = true;
};

struct Localisation {
    double x = 0, y = 0; // px, spotflow conventions
    double photons = 0, background = 0, probability = 0;
    double x_sigma = 0, y_sigma = 0, photons_sigma = 0;
};

// The post-processing params detect.decode and train.decode share, read
// from a params object (nlohmann::json; the schema has checked the values).
// photon_scale and background_scale come from the network, not from here.
template <class Json>
PostSettings post_settings_from(const Json& p) {
    PostSettings s;
    s.detection_threshold = p.value("detection_threshold", s.detection_threshold);
    s.candidate_threshold = p.value("candidate_threshold", s.candidate_threshold);
    s.split_threshold = p.value("split_threshold", s.split_threshold);
    s.border_px = p.value("border_px", s.border_px);
    s.integration = p.value("integration", std::string("square")) == "plus" ? Integration::Plus : Integration::Square;
    s.position = p.value("position", std::string("mixture")) == "pixel" ? Position::Pixel : Position::Mixture;
    s.merge_agreeing = p.value("merge_agreeing", s.merge_agreeing);
    return s;
}

// maps: kChannels planes of h x w (channel-major, as the network's output
// for one frame). Returns the detections in raster order of their pixel.
std::vector<Localisation> postprocess(const float* maps, int64_t h, int64_t w, const PostSettings& s);

} // namespace decode

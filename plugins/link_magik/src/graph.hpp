// MAGIK's graph (Pineda et al. 2023), without LibTorch: candidate edges
// between detections through a spatial index, windows of frames, the
// normalised node and edge features, and the ground-truth labels of edges.
// Everything the network sees is made here, so the linker and the trainer
// cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace magik {

// The columns MAGIK reads; probability and photons are optional in the
// input (NaN when absent or null).
// The longest movie, in frames, the graph accepts.
constexpr int64_t kMaxFrameSpan = 10'000'000;

struct Detections {
    std::vector<int64_t> frame;
    std::vector<double> x, y, probability, photons;
    size_t size() const { return frame.size(); }
};

struct GraphOptions {
    int max_gap = 2;            // frames: an edge joins t to t + 1 .. t + max_gap
    double max_distance = 30.0; // px: and detections at most this far apart
    int max_candidates = 0;     // per source and frame gap, the nearest this many within the gate; 0: all
};

// A directed candidate edge between two detections (row indices), the
// source in the earlier frame.
struct Edge {
    int64_t src, dst;
};

// Every candidate edge, sorted by (source frame, source row, target row).
// One uniform grid per frame, so the work grows with the number of edges,
// not with N^2. With o.max_candidates = k > 0 a source keeps, per frame
// gap, its k nearest targets (ties: the lower row).
std::vector<Edge> candidate_edges(const Detections& d, const GraphOptions& o);

// The k-nearest rule of candidate_edges on one (source, target frame) pair:
// `found` holds (distance, target) of every target within the gate; keeps
// the k nearest (all for k <= 0). Shared with the streaming linker so both
// build the same graph. Thread-compatible.
void keep_nearest(std::vector<std::pair<double, int64_t>>& found, int k);

// How features are scaled: a property of a trained model, saved with its
// weights, so inference normalises exactly as training did.
struct FeatureScales {
    double position_scale = 256; // px: x / scale, y / scale (the seed's image size)
    double distance_scale = 30;  // px: dx, dy, distance / scale (the training graph's radius)
    double gap_scale = 2;        // frames: gap / scale (the training graph's max gap)
    int window_frames = 16;      // frames per window; the frame feature is (t - window start) / window_frames
};

constexpr int kNodeFeatures = 5; // frame, x, y, probability, photons
constexpr int kEdgeFeatures = 4; // dx, dy, distance, gap

// One window's graph, ready for the network: nodes are local indices.
struct Graph {
    std::vector<int64_t> rows;     // detection row per node
    std::vector<float> node_feat;  // nodes x kNodeFeatures
    std::vector<int64_t> src, dst; // local node indices per edge
    std::vector<float> edge_feat;  // edges x kEdgeFeatures; column 2 is the normalised distance
    std::vector<int64_t> edge_ids; // index into the candidate edge list per edge
    int64_t nodes() const { return static_cast<int64_t>(rows.size()); }
    int64_t edges() const { return static_cast<int64_t>(src.size()); }
};

// A rotation by `angle` and optional mirror (x -> -x, before rotating) about
// the image centre: training's augmentation. Identity by default.
struct Transform {
    double angle = 0;
    bool flip = false;
};

// The photons of the whole movie's detections, for the relative-brightness
// feature (median; 0 when the column is missing).
double median_photons(const Detections& d);

// The graph of frames [first, first + frames): every detection in it and
// every candidate edge with both ends in it.
//   edges: from candidate_edges; edges_by_frame[t - t0] indexes the first
//   edge whose source is in frame t (see EdgeIndex).
struct EdgeIndex {
    int64_t t0 = 0;                 // first frame
    std::vector<int64_t> first;     // per frame t0.., first edge with source in that frame; size frames + 1
    std::vector<int64_t> rows;      // detection rows sorted by frame
    std::vector<int64_t> row_first; // per frame t0.., first position in rows; size frames + 1
    EdgeIndex(const Detections& d, const std::vector<Edge>& edges);
    int64_t frames() const { return static_cast<int64_t>(first.size()) - 1; }
};

// One node's features (kNodeFeatures floats into f) for a detection at
// frame t in the window starting at w, and one edge's (kEdgeFeatures) from
// the placed positions: the single definition both the whole-movie and the
// streaming graphs use. photons_log_median: log of the movie's median
// photons, 0 when unknown.
void node_features(int64_t t, double px, double py, double probability, double photons, int64_t w, int64_t frames,
                   const FeatureScales& s, double photons_log_median, float* f);
void edge_features(double dx, double dy, int64_t gap, const FeatureScales& s, std::vector<float>& out);

// Where a transform puts (x, y).
void place(const Transform& tf, const FeatureScales& s, double x, double y, double& ox, double& oy);

Graph window_graph(const Detections& d, const std::vector<Edge>& edges, const EdgeIndex& index, int64_t first,
                   int64_t frames, const FeatureScales& s, double photons_median, const Transform& tf = {});

// Windows covering [t0, t0 + span) with `frames` frames each, half
// overlapping, so every edge lies well inside at least one; returns their
// first frames.
std::vector<int64_t> window_starts(int64_t t0, int64_t span, int64_t frames, int max_gap);

// How central an edge (frames ts < td) sits in the window [w, w + frames):
// the smaller of its distances to the two ends. Inference keeps each edge's
// probability from the window where this is largest (most message-passing
// context on both sides).
inline int64_t centrality(int64_t ts, int64_t td, int64_t w, int64_t frames) {
    const int64_t a = ts - w, b = w + frames - 1 - td;
    return a < b ? a : b;
}

// Ground truth: the true track id of each detection (-1 for a false
// positive), from a per-frame optimal one-to-one matching within `radius`
// px (libs/assignment, cost = squared distance).
std::vector<int64_t> match_truth(const Detections& d, const std::vector<int64_t>& truth_frame,
                                 const std::vector<double>& truth_x, const std::vector<double>& truth_y,
                                 const std::vector<int64_t>& truth_id, double radius);

// An edge is a true link when both ends are matched to the same track
// (MAGIK's labelling; a t -> t + 2 edge of one track is true as well).
std::vector<float> edge_labels(const std::vector<Edge>& edges, const std::vector<int64_t>& true_id);

// Edge classification scores at a threshold.
struct EdgeScores {
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0; }
    double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 1.0; }
    double accuracy() const {
        const int64_t n = tp + fp + fn + tn;
        return n ? static_cast<double>(tp + tn) / static_cast<double>(n) : 1.0;
    }
    double f1() const {
        const double p = precision(), r = recall();
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    void add(float probability, float label, double threshold) {
        const bool pos = probability >= threshold, truth = label > 0.5f;
        (pos ? (truth ? tp : fp) : (truth ? fn : tn)) += 1;
    }
};

} // namespace magik

// link.magik while the stream arrives: detections come in frame by frame,
// the graph is built and scored over a sliding window of frames (the
// window the network was trained on, half overlapping), each edge keeps the
// probability of the window where it sits most centrally, and the
// per-frame-pair assignments of post.cpp run as soon as their edges are
// final. Track ids and edges go out as their frames are decided, and the
// frames behind the window are dropped, so memory is O(window x detections
// per frame) and time is linear in frames. The result equals the
// whole-movie computation (candidate_edges, window_starts, link_edges) on
// detections given in frame order, except for the brightness feature,
// whose median is taken over the frames up to each window's end instead of
// the whole movie. No LibTorch here: the network comes in as a Scorer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph.hpp"

namespace magik {

struct StreamOptions {
    GraphOptions graph;
    int window = 16;                  // frames per graph window (> graph.max_gap)
    double threshold = 0.3;           // link probability below which no link is taken
    int64_t max_per_frame = 0;        // the runaway guard: more detections in one frame is an error; 0: no limit
    int64_t batch_edges = 32768;      // windows are batched into one network call up to about this many edges
    int64_t batch_windows = 16;       // or this many windows, so tracks keep streaming out on sparse movies
};

// The input broke the stream's contract (a frame arriving after it was
// linked, a frame over the limit): what() is one line naming frame and cause.
struct StreamError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A decided candidate edge, as link.magik's edges output lists it.
struct DecidedEdge {
    int64_t src, dst; // detection rows
    int64_t frame;    // the source's
    int64_t gap;
    float probability;
    bool linked;
};

class StreamLinker {
public:
    // Link probabilities for the edges of `graphs`, concatenated in order.
    using Scorer = std::function<std::vector<float>(const std::vector<Graph>& graphs)>;
    struct Sinks {
        std::function<void(int64_t row, int64_t track)> track; // a row's final track id
        std::function<void(const DecidedEdge&)> edge;          // may be empty
    };

    StreamLinker(const StreamOptions& o, const FeatureScales& s, Scorer score, Sinks sinks);
    ~StreamLinker();

    // One detection; rows are numbered by the caller (its input order).
    // Throws StreamError for a frame already linked or over the limit.
    void add(int64_t row, int64_t frame, double x, double y, double probability, double photons);
    // Every detection of the frames <= frame has been added: builds, scores
    // and links what that makes final.
    void complete_through(int64_t frame);
    // The stream ended: decides everything left.
    void finish();

    // Detections held for frame t (0 once it is dropped or before it arrives).
    int64_t count(int64_t frame) const;
    // No frame yet (the value of the frame markers below before any).
    static constexpr int64_t kNone = -(int64_t{1} << 60);
    // The last frame whose track ids are out (kNone before the first).
    int64_t linked_through() const { return stepped_; }
    struct Stats {
        int64_t windows = 0, edges = 0, links = 0, detections = 0;
        int64_t max_window_edges = 0;   // the largest single window graph
        int64_t max_frames_held = 0;    // frames in memory at once
        int64_t max_detections_held = 0;
    };
    const Stats& stats() const { return stats_; }

    // The whole-movie photons median in one place: the streaming median is
    // a histogram of log photons (bins of 1/256 natural-log units), O(1)
    // memory; its value is the geometric centre of the median's bin.
    class PhotonHistogram {
    public:
        void add(double photons);
        double log_median() const; // 0 when empty
    private:
        std::vector<int64_t> bins_;
        int64_t n_ = 0;
    };

private:
    struct Frame;
    Frame* frame_at(int64_t t); // nullptr outside [base_, base_ + frames_.size())
    Frame& ensure(int64_t t);
    void make_edges(int64_t t);
    void build_window(int64_t w);
    void flush();
    void step(int64_t t);
    void emit_edges(int64_t t);
    void drop_before(int64_t t);
    void run_ready(bool final);

    StreamOptions o_;
    FeatureScales s_;
    Scorer score_;
    Sinks sinks_;
    std::deque<std::unique_ptr<Frame>> frames_;
    int64_t base_ = 0;                  // frame of frames_[0]
    bool any_ = false;                  // a detection (or frame) was seen
    int64_t first_ = 0;                 // the first window's start: the first frame seen
    int64_t newest_ = 0;                // the highest frame seen
    int64_t complete_ = kNone;      // frames <= this are complete
    int64_t sealed_ = kNone;        // frames <= this were used: no more rows accepted
    int64_t edges_through_ = kNone; // source frames <= this have their edges
    int64_t next_window_ = 0;           // start of the next window to build
    bool windows_done_ = false;         // the last window (covering the last frame) is built
    int64_t hist_through_ = kNone;  // frames <= this are in the photon histogram
    int64_t stepped_ = kNone;       // frames <= this have their links and track ids
    int64_t emitted_through_ = kNone; // source frames <= this had their edges emitted
    int64_t scored_before_ = kNone;     // edges with a source before this frame have their final probability
    int64_t next_track_ = 0;
    int64_t held_ = 0; // detections in frames_
    PhotonHistogram photons_;
    struct Pending;
    std::vector<Graph> batch_;
    std::vector<Pending> pending_;
    int64_t batch_edge_count_ = 0;
    Stats stats_;
};

} // namespace magik

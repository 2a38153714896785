// The streaming linker against the whole-movie computation it replaces
// (candidate_edges, window_starts, window_graph, centrality, link_edges),
// with a LibTorch-free scorer whose answer depends on the window (so the
// choice of window per edge is tested too); its memory bound, the k-nearest
// cap, and its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <limits>
#include <random>
#include <set>

#include "graph.hpp"
#include "post.hpp"
#include "stream.hpp"

using namespace magik;

namespace {

// Random walks with false positives, frame-major rows; no photons column.
Detections walks(int tracks, int frames, double side, double false_per_frame, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> place(0, side), u(0, 1);
    std::normal_distribution<double> step(0, 1.0);
    std::vector<double> x(static_cast<size_t>(tracks)), y(static_cast<size_t>(tracks));
    for (auto& v : x) v = place(rng);
    for (auto& v : y) v = place(rng);
    Detections d;
    for (int t = 0; t < frames; ++t) {
        for (int i = 0; i < tracks; ++i) {
            x[static_cast<size_t>(i)] += step(rng), y[static_cast<size_t>(i)] += step(rng);
            if (u(rng) < 0.05) continue; // a blink
            d.frame.push_back(t), d.x.push_back(x[static_cast<size_t>(i)]), d.y.push_back(y[static_cast<size_t>(i)]);
        }
        for (int k = 0; k < false_per_frame; ++k) d.frame.push_back(t), d.x.push_back(place(rng)), d.y.push_back(place(rng));
    }
    d.probability.assign(d.size(), NAN);
    d.photons.assign(d.size(), NAN);
    return d;
}

// Depends on the edge's length and on where its source sits in the window
// (node feature 0), so the window an edge is scored in changes its score.
std::vector<float> fake_scores(const Graph& g) {
    std::vector<float> p(static_cast<size_t>(g.edges()));
    for (int64_t e = 0; e < g.edges(); ++e) {
        const float dist = g.edge_feat[static_cast<size_t>(e * kEdgeFeatures + 2)];
        const float pos = g.node_feat[static_cast<size_t>(g.src[static_cast<size_t>(e)] * kNodeFeatures)];
        p[static_cast<size_t>(e)] = 1.0f / (1.0f + std::exp(-(3.0f - 40.0f * dist + 2.0f * pos)));
    }
    return p;
}

struct Whole {
    std::vector<Edge> edges;
    std::vector<float> prob;
    Links links;
};

// The whole-movie computation, as link.magik did it in finish.
Whole whole_movie(const Detections& d, const GraphOptions& o, int window, double threshold) {
    Whole r;
    r.edges = candidate_edges(d, o);
    r.prob.assign(r.edges.size(), 0);
    const EdgeIndex index(d, r.edges);
    std::vector<int64_t> best(r.edges.size(), std::numeric_limits<int64_t>::min());
    FeatureScales s;
    s.window_frames = window;
    for (const int64_t w : window_starts(index.t0, index.frames(), window, o.max_gap)) {
        const Graph g = window_graph(d, r.edges, index, w, window, s, median_photons(d));
        const auto p = fake_scores(g);
        for (int64_t k = 0; k < g.edges(); ++k) {
            const int64_t e = g.edge_ids[static_cast<size_t>(k)];
            const Edge& ed = r.edges[static_cast<size_t>(e)];
            const int64_t c = centrality(d.frame[static_cast<size_t>(ed.src)], d.frame[static_cast<size_t>(ed.dst)], w, window);
            if (c > best[static_cast<size_t>(e)]) best[static_cast<size_t>(e)] = c, r.prob[static_cast<size_t>(e)] = p[static_cast<size_t>(k)];
        }
    }
    r.links = link_edges(d.frame, r.edges, r.prob, threshold, 1);
    return r;
}

struct Streamed {
    std::vector<int64_t> track;
    std::map<std::pair<int64_t, int64_t>, DecidedEdge> edges;
    StreamLinker::Stats stats;
    std::vector<int64_t> decided_by_chunk; // rows with a track id after each chunk
};

// Fed in chunks of `chunk` frames, each chunk declared complete, as a
// detector's batches are.
Streamed streamed(const Detections& d, const StreamOptions& o, int chunk) {
    Streamed r;
    r.track.assign(d.size(), -1);
    FeatureScales s;
    s.window_frames = o.window;
    int64_t decided = 0;
    StreamLinker::Sinks sinks;
    sinks.track = [&](int64_t row, int64_t id) {
        EXPECT_EQ(r.track[static_cast<size_t>(row)], -1) << "row " << row << " decided twice";
        r.track[static_cast<size_t>(row)] = id;
        ++decided;
    };
    sinks.edge = [&](const DecidedEdge& e) { EXPECT_TRUE(r.edges.emplace(std::make_pair(e.src, e.dst), e).second); };
    StreamLinker l(o, s,
                   [](const std::vector<Graph>& gs) {
                       std::vector<float> p;
                       for (const Graph& g : gs) {
                           const auto q = fake_scores(g);
                           p.insert(p.end(), q.begin(), q.end());
                       }
                       return p;
                   },
                   sinks);
    size_t i = 0;
    const int64_t last = d.frame.empty() ? 0 : d.frame.back();
    for (int64_t f0 = 0; f0 <= last; f0 += chunk) {
        for (; i < d.size() && d.frame[i] < f0 + chunk; ++i)
            l.add(static_cast<int64_t>(i), d.frame[i], d.x[i], d.y[i], d.probability[i], d.photons[i]);
        l.complete_through(f0 + chunk - 1);
        r.decided_by_chunk.push_back(decided);
    }
    l.finish();
    r.stats = l.stats();
    return r;
}

void expect_same(const Detections& d, const GraphOptions& g, int window, int chunk) {
    const double threshold = 0.3;
    const Whole w = whole_movie(d, g, window, threshold);
    StreamOptions o;
    o.graph = g;
    o.window = window;
    o.threshold = threshold;
    o.batch_edges = 500; // several network calls per movie
    const Streamed s = streamed(d, o, chunk);
    ASSERT_EQ(s.track.size(), w.links.track.size());
    for (size_t i = 0; i < d.size(); ++i) ASSERT_EQ(s.track[i], w.links.track[i]) << "row " << i;
    ASSERT_EQ(s.edges.size(), w.edges.size());
    for (size_t e = 0; e < w.edges.size(); ++e) {
        const auto it = s.edges.find({w.edges[e].src, w.edges[e].dst});
        ASSERT_NE(it, s.edges.end());
        EXPECT_EQ(it->second.probability, w.prob[e]);
        EXPECT_EQ(it->second.linked, w.links.next[static_cast<size_t>(w.edges[e].src)] == w.edges[e].dst);
    }
    EXPECT_EQ(s.stats.links, w.links.links);
}

TEST(Stream, EqualsTheWholeMovieComputation) {
    const Detections d = walks(30, 90, 150, 3, 1);
    GraphOptions g; // 2 frames, 30 px, no cap: the old graph
    expect_same(d, g, 16, 7);
    expect_same(d, g, 6, 16); // windows smaller than a chunk
    g.max_candidates = 3;
    expect_same(d, g, 16, 1);
    g.max_gap = 3;
    expect_same(d, g, 10, 5);
}

TEST(Stream, TracksGoOutWhileTheStreamArrives) {
    const Detections d = walks(20, 200, 150, 1, 2);
    StreamOptions o;
    o.batch_edges = 1; // one window per network call
    const Streamed s = streamed(d, o, 16);
    // After 6 chunks (96 frames) most of the first 80 frames are decided.
    ASSERT_GE(s.decided_by_chunk.size(), 6u);
    int64_t rows80 = 0;
    while (rows80 < static_cast<int64_t>(d.size()) && d.frame[static_cast<size_t>(rows80)] < 80) ++rows80;
    EXPECT_GE(s.decided_by_chunk[5], rows80);
    for (const int64_t id : s.track) EXPECT_GE(id, 0);
}

TEST(Stream, MemoryFollowsTheWindowNotTheMovie) {
    StreamOptions o;
    o.batch_edges = 1;
    const Streamed short_movie = streamed(walks(20, 200, 150, 1, 3), o, 16);
    const Streamed long_movie = streamed(walks(20, 2000, 150, 1, 3), o, 16);
    // Window 16 + chunk 16 + gap 2 and a stride: never the whole movie.
    EXPECT_LE(long_movie.stats.max_frames_held, 16 + 16 + 2 + 8 + 1);
    EXPECT_EQ(long_movie.stats.max_frames_held, short_movie.stats.max_frames_held);
    EXPECT_LE(long_movie.stats.max_detections_held, short_movie.stats.max_detections_held * 12 / 10);
    EXPECT_GT(long_movie.stats.windows, 9 * short_movie.stats.windows);
}

TEST(Stream, TheCapKeepsTheNearestCandidates) {
    // 200 detections per frame in 60 x 60 px: ~60 within 30 px of each.
    const Detections d = walks(200, 12, 60, 0, 4);
    GraphOptions g;
    g.max_candidates = 5;
    const auto capped = candidate_edges(d, g);
    g.max_candidates = 0;
    const auto all = candidate_edges(d, g);
    EXPECT_GT(all.size(), 20 * capped.size() / 2);
    std::map<std::pair<int64_t, int64_t>, int> per; // (source, gap) -> edges
    for (const Edge& e : capped) ++per[{e.src, d.frame[static_cast<size_t>(e.dst)] - d.frame[static_cast<size_t>(e.src)]}];
    for (const auto& [k, n] : per) EXPECT_LE(n, 5);
    EXPECT_LE(capped.size(), d.size() * 5 * 2);
    // The kept ones are the nearest: no dropped target of the same gap is closer.
    const auto dist = [&](const Edge& e) {
        return std::hypot(d.x[static_cast<size_t>(e.dst)] - d.x[static_cast<size_t>(e.src)], d.y[static_cast<size_t>(e.dst)] - d.y[static_cast<size_t>(e.src)]);
    };
    std::map<std::pair<int64_t, int64_t>, double> farthest_kept;
    for (const Edge& e : capped) {
        auto& f = farthest_kept[{e.src, d.frame[static_cast<size_t>(e.dst)]}];
        f = std::max(f, dist(e));
    }
    std::set<std::pair<int64_t, int64_t>> kept;
    for (const Edge& e : capped) kept.insert({e.src, e.dst});
    for (const Edge& e : all)
        if (!kept.count({e.src, e.dst})) {
            const double bound = farthest_kept[std::make_pair(e.src, d.frame[static_cast<size_t>(e.dst)])];
            EXPECT_GE(dist(e), bound);
        }
    // The stream builds the same capped graph.
    StreamOptions o;
    o.graph.max_candidates = 5;
    EXPECT_EQ(streamed(d, o, 4).stats.edges, static_cast<int64_t>(capped.size()));
}

TEST(Stream, ErrorsNameTheFrame) {
    StreamOptions o;
    o.max_per_frame = 3;
    FeatureScales s;
    StreamLinker l(o, s, [](const std::vector<Graph>& gs) {
        std::vector<float> p;
        for (const Graph& g : gs) p.resize(p.size() + static_cast<size_t>(g.edges()), 0.9f);
        return p;
    }, {[](int64_t, int64_t) {}, {}});
    for (int i = 0; i < 3; ++i) l.add(i, 4, i, i, NAN, NAN);
    try {
        l.add(3, 4, 9, 9, NAN, NAN);
        FAIL() << "a fourth detection in frame 4 was accepted";
    } catch (const StreamError& e) {
        EXPECT_STREQ(e.what(), "detections: frame 4 has more than 3 detections (max_detections_per_frame)");
    }
    for (int64_t t = 5; t < 40; ++t) l.add(t, t, 1, 1, NAN, NAN);
    l.complete_through(39);
    try {
        l.add(100, 6, 1, 1, NAN, NAN);
        FAIL() << "frame 6 was accepted after it was linked";
    } catch (const StreamError& e) {
        EXPECT_NE(std::string(e.what()).find("detections: frame 6 arrives after frame"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("sort the table by frame"), std::string::npos) << e.what();
    }
}

TEST(Stream, PhotonMedianFromTheHistogram) {
    StreamLinker::PhotonHistogram h;
    EXPECT_EQ(h.log_median(), 0);
    Detections d;
    std::mt19937_64 rng(5);
    std::lognormal_distribution<double> ph(std::log(1500), 0.4);
    for (int i = 0; i < 5001; ++i) {
        d.photons.push_back(ph(rng));
        d.frame.push_back(0);
        h.add(d.photons.back());
    }
    h.add(NAN), h.add(-1), h.add(0); // ignored, as median_photons ignores them
    EXPECT_NEAR(h.log_median(), std::log(median_photons(d)), 1.0 / 256);
}

} // namespace

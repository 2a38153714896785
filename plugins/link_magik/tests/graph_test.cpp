// Graph construction and post-processing on hand-made detections.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "graph.hpp"
#include "post.hpp"

using namespace magik;

namespace {

Detections make(std::vector<int64_t> f, std::vector<double> x, std::vector<double> y) {
    Detections d;
    d.frame = std::move(f);
    d.x = std::move(x);
    d.y = std::move(y);
    d.probability.assign(d.frame.size(), NAN);
    d.photons.assign(d.frame.size(), NAN);
    return d;
}

std::set<std::pair<int64_t, int64_t>> as_set(const std::vector<Edge>& e) {
    std::set<std::pair<int64_t, int64_t>> s;
    for (const auto& x : e) s.insert({x.src, x.dst});
    return s;
}

TEST(Graph, HandMadeDetectionsGiveExactlyTheExpectedEdges) {
    // Frame 0: A (0,0), B (100,0). Frame 1: C (3,4) 5 px from A, D (100,31)
    // 31 px from B (beyond 30). Frame 2: E (0,29.9) 29.9 px from A, F (130,0)
    // 30 px from B exactly (kept: the gate is inclusive). Frame 3: G (0,0),
    // 3 frames after A (beyond the gap of 2); 2 frames after C (5 px) kept.
    const auto d = make({0, 0, 1, 1, 2, 2, 3}, {0, 100, 3, 100, 0, 130, 0}, {0, 0, 4, 31, 29.9, 0, 0});
    GraphOptions o; // max_gap 2, max_distance 30 (seed 000)
    const auto e = candidate_edges(d, o);
    // D (100,31) reaches nothing: F is 43 px away.
    const std::set<std::pair<int64_t, int64_t>> expect = {
        {0, 2}, // A -> C, 5 px, gap 1
        {0, 4}, // A -> E, 29.9 px, gap 2
        {1, 5}, // B -> F, 30 px, gap 2
        {2, 4}, // C -> E, 26.1 px, gap 1
        {2, 6}, // C -> G, 5 px, gap 2
        {4, 6}, // E -> G, 29.9 px, gap 1
    };
    EXPECT_EQ(as_set(e), expect);
    // Sorted by source frame, then source row, then target row.
    for (size_t k = 1; k < e.size(); ++k) {
        const auto a = std::make_tuple(d.frame[e[k - 1].src], e[k - 1].src, e[k - 1].dst);
        const auto b = std::make_tuple(d.frame[e[k].src], e[k].src, e[k].dst);
        EXPECT_LT(a, b);
    }

    // Gap 1 only, 10 px: only A -> C.
    o.max_gap = 1;
    o.max_distance = 10;
    EXPECT_EQ(as_set(candidate_edges(d, o)), (std::set<std::pair<int64_t, int64_t>>{{0, 2}}));
}

TEST(Graph, WindowFeaturesAndEdges) {
    const auto d = make({0, 1, 2, 3}, {10, 12, 14, 16}, {20, 20, 20, 20});
    const auto e = candidate_edges(d, GraphOptions{});
    ASSERT_EQ(e.size(), 5u); // 0-1 0-2 1-2 1-3 2-3
    const EdgeIndex idx(d, e);
    FeatureScales s;
    s.window_frames = 3;
    const Graph g = window_graph(d, e, idx, 1, 3, s, 0);
    ASSERT_EQ(g.nodes(), 3);
    ASSERT_EQ(g.edges(), 3); // 1-2, 1-3, 2-3
    EXPECT_FLOAT_EQ(g.node_feat[0], 0.0f);                       // frame 1 - window start 1
    EXPECT_FLOAT_EQ(g.node_feat[1], static_cast<float>(12.0 / 256));
    EXPECT_FLOAT_EQ(g.node_feat[3], 1.0f);                       // no probability column: certain
    EXPECT_FLOAT_EQ(g.node_feat[4], 0.0f);                       // no photons: neutral
    // Edge 1 -> 3: dx 4 px, gap 2.
    EXPECT_FLOAT_EQ(g.edge_feat[1 * 4 + 0], static_cast<float>(4.0 / 30));
    EXPECT_FLOAT_EQ(g.edge_feat[1 * 4 + 2], static_cast<float>(4.0 / 30));
    EXPECT_FLOAT_EQ(g.edge_feat[1 * 4 + 3], 1.0f);
    // A quarter turn moves dx into dy and keeps the distance.
    const Graph r = window_graph(d, e, idx, 1, 3, s, 0, Transform{M_PI / 2, false});
    EXPECT_NEAR(r.edge_feat[1 * 4 + 0], 0.0f, 1e-6);
    EXPECT_NEAR(r.edge_feat[1 * 4 + 1], 4.0 / 30, 1e-6);
    EXPECT_NEAR(r.edge_feat[1 * 4 + 2], 4.0 / 30, 1e-6);
}

TEST(Graph, EveryEdgeFitsAWindow) {
    for (int frames : {3, 4, 8, 16})
        for (int gap : {1, 2})
            if (frames > gap) {
                const auto starts = window_starts(5, 100, frames, gap);
                for (int64_t t = 5; t + gap < 105; ++t) {
                    bool inside = false;
                    for (const int64_t w : starts) inside |= w <= t && t + gap < w + frames;
                    EXPECT_TRUE(inside) << "frames " << frames << " gap " << gap << " t " << t;
                }
            }
    EXPECT_THROW(window_starts(0, 10, 2, 2), std::invalid_argument);
}

TEST(Graph, TruthMatchingAndLabels) {
    const auto d = make({0, 0, 1, 1}, {0, 50, 0.5, 80}, {0, 0, 0, 0});
    // Truth: track 7 at (0,0) -> (0.4,0); track 9 at (50.5,0) only in frame 0.
    const auto id = match_truth(d, {0, 0, 1}, {0, 50.5, 0.4}, {0, 0, 0}, {7, 9, 7}, 2.0);
    EXPECT_EQ(id, (std::vector<int64_t>{7, 9, 7, -1}));
    const std::vector<Edge> e = {{0, 2}, {1, 2}, {1, 3}, {0, 3}};
    EXPECT_EQ(edge_labels(e, id), (std::vector<float>{1, 0, 0, 0}));
}

TEST(Post, OneToOneAndGapsAfterDirectLinks) {
    // Frame 0: a, b; frame 1: c; frame 2: d. a->c 0.9, b->c 0.8, b->d 0.6 (gap
    // 2), a->d 0.5 (gap 2). a takes c; b, left without a successor, takes d.
    const std::vector<int64_t> frame = {0, 0, 1, 2};
    const std::vector<Edge> e = {{0, 2}, {1, 2}, {1, 3}, {0, 3}};
    const auto r = link_edges(frame, e, {0.9f, 0.8f, 0.6f, 0.5f}, 0.3, 1);
    EXPECT_EQ(r.next, (std::vector<int64_t>{2, 3, -1, -1}));
    EXPECT_EQ(r.prev, (std::vector<int64_t>{-1, -1, 0, 1}));
    EXPECT_EQ(r.track, (std::vector<int64_t>{0, 1, 0, 1}));
    // Below the threshold nothing links.
    const auto none = link_edges(frame, e, {0.2f, 0.2f, 0.2f, 0.2f}, 0.3, 1);
    EXPECT_EQ(none.track, (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(Post, GlobalNotGreedy) {
    // a->c 0.9, a->d 0.85, b->c 0.8, b nothing else. Greedy takes a->c and
    // strands b; the assignment takes a->d, b->c (more log-odds in total).
    const std::vector<int64_t> frame = {0, 0, 1, 1};
    const auto r = link_edges(frame, {{0, 2}, {0, 3}, {1, 2}}, {0.9f, 0.85f, 0.8f}, 0.3, 1);
    EXPECT_EQ(r.next[0], 3);
    EXPECT_EQ(r.next[1], 2);
}

TEST(Post, NeverTwoSuccessorsOrPredecessors) {
    // Random dense graphs with random probabilities.
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    for (int trial = 0; trial < 20; ++trial) {
        std::vector<int64_t> frame;
        for (int t = 0; t < 12; ++t)
            for (int k = 0; k < 15; ++k) frame.push_back(t);
        Detections d = make(frame, std::vector<double>(frame.size()), std::vector<double>(frame.size()));
        for (size_t i = 0; i < frame.size(); ++i) d.x[i] = 40 * u(rng), d.y[i] = 40 * u(rng);
        const auto e = candidate_edges(d, GraphOptions{});
        std::vector<float> p(e.size());
        for (auto& v : p) v = static_cast<float>(u(rng));
        const auto r = link_edges(frame, e, p, 0.3, 2);
        std::vector<int> succ(frame.size()), pred(frame.size());
        std::set<std::pair<int64_t, int64_t>> allowed;
        for (size_t k = 0; k < e.size(); ++k)
            if (p[k] >= 0.3f) allowed.insert({e[k].src, e[k].dst});
        for (size_t i = 0; i < frame.size(); ++i)
            if (r.next[i] >= 0) {
                ++succ[i], ++pred[static_cast<size_t>(r.next[i])];
                EXPECT_TRUE(allowed.count({static_cast<int64_t>(i), r.next[i]}));
                EXPECT_EQ(r.prev[static_cast<size_t>(r.next[i])], static_cast<int64_t>(i));
                EXPECT_EQ(r.track[i], r.track[static_cast<size_t>(r.next[i])]);
            }
        for (size_t i = 0; i < frame.size(); ++i) {
            EXPECT_LE(succ[i], 1);
            EXPECT_LE(pred[i], 1);
        }
        // A track holds at most one detection per frame.
        std::set<std::pair<int64_t, int64_t>> seen;
        for (size_t i = 0; i < frame.size(); ++i) EXPECT_TRUE(seen.insert({r.track[i], frame[i]}).second);
    }
}

} // namespace

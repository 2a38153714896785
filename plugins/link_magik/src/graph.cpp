#include "graph.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

#include "spotflow_tables/frame_matching.hpp"
#include "spotflow_tables/grid.hpp"

namespace magik {

namespace {

// Rows grouped by frame, frames ascending.
std::map<int64_t, std::vector<int64_t>> rows_by_frame(const std::vector<int64_t>& frame) {
    std::map<int64_t, std::vector<int64_t>> by;
    for (size_t i = 0; i < frame.size(); ++i) by[frame[i]].push_back(static_cast<int64_t>(i));
    return by;
}

} // namespace

std::vector<Edge> candidate_edges(const Detections& d, const GraphOptions& o) {
    std::vector<Edge> edges;
    if (d.size() == 0 || o.max_gap < 1) return edges;
    const auto by = rows_by_frame(d.frame);
    std::map<int64_t, spotflow::tables::PointGrid> grids;
    for (const auto& [t, rows] : by) grids.emplace(t, spotflow::tables::PointGrid(d.x, d.y, rows, o.max_distance));
    for (const auto& [t, rows] : by)
        for (const int64_t i : rows) {
            const size_t begin = edges.size();
            std::vector<std::pair<double, int64_t>> found;
            for (int g = 1; g <= o.max_gap; ++g) {
                const auto it = grids.find(t + g);
                if (it == grids.end()) continue;
                found.clear();
                it->second.within(d.x[static_cast<size_t>(i)], d.y[static_cast<size_t>(i)], o.max_distance,
                                  [&](int64_t j, double dist) { found.emplace_back(dist, j); });
                keep_nearest(found, o.max_candidates);
                for (const auto& [dist, j] : found) edges.push_back({i, j});
            }
            // The grid visits cells in hash order; sort so the graph does not
            // depend on it.
            std::sort(edges.begin() + static_cast<std::ptrdiff_t>(begin), edges.end(),
                      [](const Edge& a, const Edge& b) { return a.dst < b.dst; });
        }
    return edges;
}

void keep_nearest(std::vector<std::pair<double, int64_t>>& found, int k) {
    if (k <= 0 || found.size() <= static_cast<size_t>(k)) return;
    std::nth_element(found.begin(), found.begin() + k, found.end());
    found.resize(static_cast<size_t>(k));
}

void place(const Transform& tf, const FeatureScales& s, double x, double y, double& ox, double& oy) {
    const double c = std::cos(tf.angle), sn = std::sin(tf.angle), half = s.position_scale / 2;
    double u = x - half, v = y - half;
    if (tf.flip) u = -u;
    ox = half + c * u - sn * v;
    oy = half + sn * u + c * v;
}

void node_features(int64_t t, double px, double py, double p, double ph, int64_t w, int64_t frames, const FeatureScales& s,
                   double lp, float* f) {
    f[0] = static_cast<float>(static_cast<double>(t - w) / static_cast<double>(frames));
    f[1] = static_cast<float>(px / s.position_scale);
    f[2] = static_cast<float>(py / s.position_scale);
    // A detector without a probability column: every detection certain.
    f[3] = static_cast<float>(std::isfinite(p) ? std::clamp(p, 0.0, 1.0) : 1.0);
    // Brightness relative to the movie's median, in log units: the same
    // feature whatever the camera gain or the puncta's mean brightness.
    f[4] = static_cast<float>(std::isfinite(ph) && ph > 0 && lp != 0 ? std::clamp(std::log(ph) - lp, -3.0, 3.0) : 0.0);
}

void edge_features(double dx, double dy, int64_t gap, const FeatureScales& s, std::vector<float>& out) {
    out.push_back(static_cast<float>(dx / s.distance_scale));
    out.push_back(static_cast<float>(dy / s.distance_scale));
    out.push_back(static_cast<float>(std::hypot(dx, dy) / s.distance_scale));
    out.push_back(static_cast<float>(static_cast<double>(gap) / s.gap_scale));
}

double median_photons(const Detections& d) {
    std::vector<double> p;
    for (const double v : d.photons)
        if (std::isfinite(v) && v > 0) p.push_back(v);
    if (p.empty()) return 0;
    const size_t k = p.size() / 2;
    std::nth_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(k), p.end());
    return p[k];
}

EdgeIndex::EdgeIndex(const Detections& d, const std::vector<Edge>& edges) {
    if (d.size() == 0) {
        first = {0};
        row_first = {0};
        return;
    }
    const auto [lo, hi] = std::minmax_element(d.frame.begin(), d.frame.end());
    t0 = *lo;
    const int64_t n = *hi - *lo + 1;
    if (n > kMaxFrameSpan) throw std::invalid_argument("frames span more than " + std::to_string(kMaxFrameSpan));
    first.assign(static_cast<size_t>(n) + 1, 0);
    row_first.assign(static_cast<size_t>(n) + 1, 0);
    // Counting sort of rows by frame, stable in row order.
    for (const int64_t t : d.frame) ++row_first[static_cast<size_t>(t - t0) + 1];
    std::partial_sum(row_first.begin(), row_first.end(), row_first.begin());
    rows.assign(d.size(), 0);
    std::vector<int64_t> fill(row_first.begin(), row_first.end() - 1);
    for (size_t i = 0; i < d.size(); ++i) rows[static_cast<size_t>(fill[static_cast<size_t>(d.frame[i] - t0)]++)] = static_cast<int64_t>(i);
    // Edges are sorted by source frame.
    for (const Edge& e : edges) ++first[static_cast<size_t>(d.frame[static_cast<size_t>(e.src)] - t0) + 1];
    std::partial_sum(first.begin(), first.end(), first.begin());
}

Graph window_graph(const Detections& d, const std::vector<Edge>& edges, const EdgeIndex& index, int64_t w,
                   int64_t frames, const FeatureScales& s, double photons_median, const Transform& tf) {
    Graph g;
    const int64_t lo = std::clamp<int64_t>(w - index.t0, 0, index.frames());
    const int64_t hi = std::clamp<int64_t>(w + frames - index.t0, 0, index.frames());
    if (lo >= hi) return g;
    const int64_t r0 = index.row_first[static_cast<size_t>(lo)], r1 = index.row_first[static_cast<size_t>(hi)];
    g.rows.assign(index.rows.begin() + r0, index.rows.begin() + r1);
    std::vector<int64_t> local; // detection row -> node, for rows in the window
    // Rows in the window are a contiguous run of index.rows, so a map from
    // row to position is a sort away; small windows keep it cheap.
    std::vector<std::pair<int64_t, int64_t>> row_node(g.rows.size());
    for (size_t k = 0; k < g.rows.size(); ++k) row_node[k] = {g.rows[k], static_cast<int64_t>(k)};
    std::sort(row_node.begin(), row_node.end());
    const auto node_of = [&](int64_t row) -> int64_t {
        const auto it = std::lower_bound(row_node.begin(), row_node.end(), std::make_pair(row, int64_t{-1}));
        return it != row_node.end() && it->first == row ? it->second : -1;
    };

    const double lp = photons_median > 0 ? std::log(photons_median) : 0;
    const size_t n = g.rows.size();
    g.node_feat.resize(n * kNodeFeatures);
    std::vector<double> px(n), py(n);
    for (size_t k = 0; k < n; ++k) {
        const size_t i = static_cast<size_t>(g.rows[k]);
        place(tf, s, d.x[i], d.y[i], px[k], py[k]);
        node_features(d.frame[i], px[k], py[k], d.probability[i], d.photons[i], w, frames, s, lp, &g.node_feat[k * kNodeFeatures]);
    }

    const int64_t e0 = index.first[static_cast<size_t>(lo)];
    const int64_t e1 = index.first[static_cast<size_t>(hi)];
    for (int64_t e = e0; e < e1; ++e) {
        const Edge& ed = edges[static_cast<size_t>(e)];
        if (d.frame[static_cast<size_t>(ed.dst)] >= w + frames) continue;
        const int64_t a = node_of(ed.src), b = node_of(ed.dst);
        if (a < 0 || b < 0) continue;
        const double dx = px[static_cast<size_t>(b)] - px[static_cast<size_t>(a)];
        const double dy = py[static_cast<size_t>(b)] - py[static_cast<size_t>(a)];
        g.src.push_back(a);
        g.dst.push_back(b);
        g.edge_ids.push_back(e);
        edge_features(dx, dy, d.frame[static_cast<size_t>(ed.dst)] - d.frame[static_cast<size_t>(ed.src)], s, g.edge_feat);
    }
    return g;
}

std::vector<int64_t> window_starts(int64_t t0, int64_t span, int64_t frames, int max_gap) {
    if (frames <= max_gap) throw std::invalid_argument("a window of " + std::to_string(frames) +
                                                       " frames cannot hold an edge spanning " + std::to_string(max_gap));
    // Any edge (gap <= max_gap) starting at t fits the last window starting
    // at or before t as long as the stride leaves max_gap frames after t.
    const int64_t stride = std::max<int64_t>(1, std::min<int64_t>(frames / 2, frames - max_gap));
    std::vector<int64_t> starts;
    for (int64_t w = t0;; w += stride) {
        starts.push_back(w);
        if (w + frames >= t0 + span) break;
    }
    return starts;
}

std::vector<int64_t> match_truth(const Detections& d, const std::vector<int64_t>& tf, const std::vector<double>& tx,
                                 const std::vector<double>& ty, const std::vector<int64_t>& tid, double radius) {
    std::vector<int64_t> id = spotflow::tables::match_by_frame({d.frame, d.x, d.y}, {tf, tx, ty}, radius);
    for (int64_t& row : id)
        if (row >= 0) row = tid[static_cast<size_t>(row)];
    return id;
}

std::vector<float> edge_labels(const std::vector<Edge>& edges, const std::vector<int64_t>& true_id) {
    std::vector<float> y(edges.size());
    for (size_t e = 0; e < edges.size(); ++e) {
        const int64_t a = true_id[static_cast<size_t>(edges[e].src)], b = true_id[static_cast<size_t>(edges[e].dst)];
        y[e] = a >= 0 && a == b ? 1.0f : 0.0f;
    }
    return y;
}

} // namespace magik

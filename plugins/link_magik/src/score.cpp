#include <limits>

#include "nodes.hpp"

namespace magik {

int64_t score_edges(const Net& net, const Detections& d, const std::vector<Edge>& edges, int window, int max_gap,
                    const spotflow_host* host, std::vector<float>& probability) {
    probability.assign(edges.size(), 0.0f);
    if (edges.empty()) return 0;
    const EdgeIndex index(d, edges);
    const double median = median_photons(d);
    const auto starts = window_starts(index.t0, index.frames(), window, max_gap);
    std::vector<int64_t> best(edges.size(), std::numeric_limits<int64_t>::min());

    // Small windows are batched together: one network call per ~32k edges
    // keeps LibTorch's per-call overhead small on sparse movies.
    constexpr int64_t kBatchEdges = 32768;
    Batch batch;
    std::vector<std::pair<int64_t, std::vector<int64_t>>> pending; // window start, edge ids
    const auto flush = [&] {
        if (batch.edges() == 0) return;
        const auto p = net.predict(batch);
        size_t k = 0;
        for (const auto& [w, ids] : pending)
            for (const int64_t e : ids) {
                const Edge& ed = edges[static_cast<size_t>(e)];
                const int64_t c = centrality(d.frame[static_cast<size_t>(ed.src)], d.frame[static_cast<size_t>(ed.dst)], w, window);
                if (c > best[static_cast<size_t>(e)]) best[static_cast<size_t>(e)] = c, probability[static_cast<size_t>(e)] = p[k];
                ++k;
            }
        batch = Batch{};
        pending.clear();
    };
    int64_t done = 0;
    for (const int64_t w : starts) {
        if (host && host->is_cancelled(host)) return -1;
        Graph g = window_graph(d, edges, index, w, window, net.scales(), median);
        if (g.edges() > 0) {
            batch.add(g);
            pending.emplace_back(w, std::move(g.edge_ids));
        }
        if (batch.edges() >= kBatchEdges) flush();
        if (host) host->progress(host, ++done, static_cast<int64_t>(starts.size()));
    }
    flush();
    return static_cast<int64_t>(starts.size());
}

} // namespace magik

#include "stream.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include "post.hpp"
#include "spotflow_tables/grid.hpp"

namespace magik {

namespace {
constexpr double kLogLo = -8, kBinsPerUnit = 256;
constexpr int kBins = 32 * 256; // ln photons in [-8, 24)
} // namespace

void StreamLinker::PhotonHistogram::add(double photons) {
    if (!std::isfinite(photons) || photons <= 0) return;
    if (bins_.empty()) bins_.assign(kBins, 0);
    const double b = std::floor((std::log(photons) - kLogLo) * kBinsPerUnit);
    ++bins_[static_cast<size_t>(std::clamp(b, 0.0, static_cast<double>(kBins - 1)))];
    ++n_;
}

double StreamLinker::PhotonHistogram::log_median() const {
    if (n_ == 0) return 0;
    // The element median_photons picks: index n / 2 of the sorted values.
    int64_t seen = 0;
    for (size_t b = 0; b < bins_.size(); ++b) {
        seen += bins_[b];
        if (seen > n_ / 2) return kLogLo + (static_cast<double>(b) + 0.5) / kBinsPerUnit;
    }
    return 0;
}

struct StreamLinker::Frame {
    int64_t t = 0;
    std::vector<int64_t> row;
    std::vector<double> x, y, p, ph;
    struct Out {
        int64_t dst_row;
        int32_t si, di, gap;
        float prob = 0;
        int64_t best = kNone; // centrality of the window prob came from
    };
    std::vector<Out> out; // sorted by (source index, target row), as candidate_edges
    std::vector<int32_t> next_gap, prev_gap;
    std::vector<int64_t> next_idx, prev_idx, track;
    std::unique_ptr<spotflow::tables::PointGrid> grid;
    std::vector<int64_t> ids;
    const spotflow::tables::PointGrid& index(double cell) {
        if (!grid) {
            ids.resize(row.size());
            for (size_t k = 0; k < ids.size(); ++k) ids[k] = static_cast<int64_t>(k);
            grid = std::make_unique<spotflow::tables::PointGrid>(x, y, ids, cell);
        }
        return *grid;
    }
};

struct StreamLinker::Pending {
    int64_t w;
    std::vector<std::pair<Frame*, size_t>> refs; // per graph edge: its source frame and index in out
};

StreamLinker::StreamLinker(const StreamOptions& o, const FeatureScales& s, Scorer score, Sinks sinks)
    : o_(o), s_(s), score_(std::move(score)), sinks_(std::move(sinks)) {
    if (o_.window <= o_.graph.max_gap)
        throw std::invalid_argument("a window of " + std::to_string(o_.window) + " frames cannot hold an edge spanning " +
                                    std::to_string(o_.graph.max_gap));
}

StreamLinker::~StreamLinker() = default;

StreamLinker::Frame* StreamLinker::frame_at(int64_t t) {
    if (frames_.empty() || t < base_ || t >= base_ + static_cast<int64_t>(frames_.size())) return nullptr;
    return frames_[static_cast<size_t>(t - base_)].get();
}

StreamLinker::Frame& StreamLinker::ensure(int64_t t) {
    if (frames_.empty()) {
        base_ = t;
        frames_.push_back(std::make_unique<Frame>());
        frames_.back()->t = t;
    }
    while (t < base_) { // only before anything is sealed (add checks)
        frames_.push_front(std::make_unique<Frame>());
        frames_.front()->t = --base_;
    }
    while (t >= base_ + static_cast<int64_t>(frames_.size())) {
        frames_.push_back(std::make_unique<Frame>());
        frames_.back()->t = base_ + static_cast<int64_t>(frames_.size()) - 1;
    }
    stats_.max_frames_held = std::max<int64_t>(stats_.max_frames_held, static_cast<int64_t>(frames_.size()));
    return *frames_[static_cast<size_t>(t - base_)];
}

int64_t StreamLinker::count(int64_t t) const {
    if (frames_.empty() || t < base_ || t >= base_ + static_cast<int64_t>(frames_.size())) return 0;
    return static_cast<int64_t>(frames_[static_cast<size_t>(t - base_)]->row.size());
}

void StreamLinker::add(int64_t row, int64_t t, double x, double y, double probability, double photons) {
    if (t <= sealed_)
        throw StreamError("detections: frame " + std::to_string(t) + " arrives after frame " + std::to_string(sealed_) +
                          " was linked; link.magik links while the stream arrives and needs detections in frame order "
                          "(as detectors emit them): sort the table by frame");
    if (any_ && std::max(newest_, t) - std::min(first_, t) >= kMaxFrameSpan)
        throw StreamError("detections: frames run from " + std::to_string(std::min(first_, t)) + " to " +
                          std::to_string(std::max(newest_, t)) + ", more than " + std::to_string(kMaxFrameSpan) +
                          " frames: is 'frame' a frame index?");
    Frame& f = ensure(t);
    if (o_.max_per_frame > 0 && static_cast<int64_t>(f.row.size()) >= o_.max_per_frame)
        throw StreamError("detections: frame " + std::to_string(t) + " has more than " + std::to_string(o_.max_per_frame) +
                          " detections (max_detections_per_frame)");
    if (!any_ || t < first_) first_ = next_window_ = t;
    if (!any_ || t > newest_) newest_ = t;
    any_ = true;
    f.row.push_back(row);
    f.x.push_back(x);
    f.y.push_back(y);
    f.p.push_back(probability);
    f.ph.push_back(photons);
    ++stats_.detections;
    stats_.max_detections_held = std::max(stats_.max_detections_held, ++held_);
}

void StreamLinker::make_edges(int64_t t) {
    Frame* f = frame_at(t);
    sealed_ = std::max(sealed_, t + o_.graph.max_gap);
    if (!f || f->row.empty()) return;
    const int G = o_.graph.max_gap;
    std::vector<std::pair<double, int64_t>> found;
    std::vector<Frame::Out> mine;
    for (size_t k = 0; k < f->row.size(); ++k) {
        mine.clear();
        for (int g = 1; g <= G; ++g) {
            Frame* d = frame_at(t + g);
            if (!d || d->row.empty()) continue;
            found.clear();
            d->index(o_.graph.max_distance).within(f->x[k], f->y[k], o_.graph.max_distance,
                                                   [&](int64_t j, double dist) { found.emplace_back(dist, j); });
            keep_nearest(found, o_.graph.max_candidates);
            for (const auto& [dist, j] : found)
                mine.push_back({d->row[static_cast<size_t>(j)], static_cast<int32_t>(k), static_cast<int32_t>(j), g});
        }
        std::sort(mine.begin(), mine.end(), [](const Frame::Out& a, const Frame::Out& b) { return a.dst_row < b.dst_row; });
        f->out.insert(f->out.end(), mine.begin(), mine.end());
    }
    stats_.edges += static_cast<int64_t>(f->out.size());
}

void StreamLinker::build_window(int64_t w) {
    const int64_t W = o_.window;
    for (int64_t t = std::max(hist_through_ + 1, base_); t <= w + W - 1; ++t)
        if (Frame* f = frame_at(t))
            for (const double v : f->ph) photons_.add(v);
    hist_through_ = std::max(hist_through_, w + W - 1);
    const double lp = photons_.log_median();
    ++stats_.windows;

    Graph g;
    Pending pd{w, {}};
    std::vector<int64_t> off(static_cast<size_t>(W), -1);
    std::vector<double> px, py;
    const Transform id{};
    for (int64_t t = w; t < w + W; ++t) {
        Frame* f = frame_at(t);
        if (!f) continue;
        off[static_cast<size_t>(t - w)] = g.nodes();
        for (size_t k = 0; k < f->row.size(); ++k) {
            double a, b;
            place(id, s_, f->x[k], f->y[k], a, b);
            px.push_back(a);
            py.push_back(b);
            g.rows.push_back(f->row[k]);
            g.node_feat.resize(g.node_feat.size() + kNodeFeatures);
            node_features(t, a, b, f->p[k], f->ph[k], w, W, s_, lp, &g.node_feat[g.node_feat.size() - kNodeFeatures]);
        }
    }
    for (int64_t t = w; t < w + W; ++t) {
        Frame* f = frame_at(t);
        if (!f) continue;
        for (size_t i = 0; i < f->out.size(); ++i) {
            const Frame::Out& e = f->out[i];
            if (t + e.gap >= w + W) continue;
            const int64_t a = off[static_cast<size_t>(t - w)] + e.si, b = off[static_cast<size_t>(t + e.gap - w)] + e.di;
            g.src.push_back(a);
            g.dst.push_back(b);
            edge_features(px[static_cast<size_t>(b)] - px[static_cast<size_t>(a)], py[static_cast<size_t>(b)] - py[static_cast<size_t>(a)],
                          e.gap, s_, g.edge_feat);
            pd.refs.emplace_back(f, i);
        }
    }
    stats_.max_window_edges = std::max(stats_.max_window_edges, g.edges());
    if (g.edges() == 0) return;
    batch_edge_count_ += g.edges();
    batch_.push_back(std::move(g));
    pending_.push_back(std::move(pd));
}

void StreamLinker::flush() {
    if (batch_.empty()) return;
    const std::vector<float> p = score_(batch_);
    if (static_cast<int64_t>(p.size()) != batch_edge_count_)
        throw std::logic_error("link.magik: the network gave " + std::to_string(p.size()) + " probabilities for " +
                               std::to_string(batch_edge_count_) + " edges");
    size_t k = 0;
    for (const Pending& pd : pending_)
        for (const auto& [f, i] : pd.refs) {
            Frame::Out& e = f->out[i];
            const int64_t c = centrality(f->t, f->t + e.gap, pd.w, o_.window);
            if (c > e.best) e.best = c, e.prob = p[k];
            ++k;
        }
    batch_.clear();
    pending_.clear();
    batch_edge_count_ = 0;
    scored_before_ = next_window_; // every window built so far is scored
}

void StreamLinker::step(int64_t t) {
    stepped_ = t;
    Frame* f = frame_at(t);
    if (!f) return;
    const size_t n = f->row.size();
    f->next_gap.assign(n, 0);
    f->next_idx.assign(n, -1);
    f->prev_gap.assign(n, 0);
    f->prev_idx.assign(n, -1);
    f->track.assign(n, -1);
    const double alt = unlinked_cost(o_.threshold);
    std::vector<PairEdge> cand;
    for (int g = 1; g <= o_.graph.max_gap; ++g) {
        Frame* s = frame_at(t - g);
        if (!s || s->row.empty() || n == 0) continue;
        cand.clear();
        for (const Frame::Out& e : s->out)
            if (e.gap == g && e.prob >= o_.threshold) cand.push_back({e.si, e.di, e.prob});
        assign_pair(
            cand, alt,
            [&](int64_t si, int64_t di) { return s->next_idx[static_cast<size_t>(si)] >= 0 || f->prev_idx[static_cast<size_t>(di)] >= 0; },
            [&](int64_t si, int64_t di) {
                s->next_idx[static_cast<size_t>(si)] = di;
                s->next_gap[static_cast<size_t>(si)] = g;
                f->prev_idx[static_cast<size_t>(di)] = si;
                f->prev_gap[static_cast<size_t>(di)] = g;
                ++stats_.links;
            });
    }
    // Track ids in order of first appearance (frame, then row), as link_edges.
    for (size_t k = 0; k < n; ++k) {
        if (f->prev_idx[k] < 0) f->track[k] = next_track_++;
        else f->track[k] = frame_at(t - f->prev_gap[k])->track[static_cast<size_t>(f->prev_idx[k])];
        sinks_.track(f->row[k], f->track[k]);
    }
}

void StreamLinker::emit_edges(int64_t t) {
    emitted_through_ = t;
    Frame* f = frame_at(t);
    if (!f || !sinks_.edge) return;
    for (const Frame::Out& e : f->out) {
        const auto si = static_cast<size_t>(e.si);
        const bool linked = !f->next_idx.empty() && f->next_idx[si] == e.di && f->next_gap[si] == e.gap;
        sinks_.edge({f->row[si], e.dst_row, t, e.gap, e.prob, linked});
    }
}

void StreamLinker::drop_before(int64_t t) {
    while (!frames_.empty() && base_ < t) {
        held_ -= static_cast<int64_t>(frames_.front()->row.size());
        frames_.pop_front();
        ++base_;
    }
}

void StreamLinker::run_ready(bool final) {
    if (!any_) return;
    const int64_t G = o_.graph.max_gap, W = o_.window;
    const int64_t C = final ? newest_ : std::min(complete_, newest_);
    // Edges of a source frame once every frame it can reach is complete.
    const int64_t edge_limit = final ? newest_ : C - G;
    for (int64_t t = std::max(edges_through_ + 1, base_); t <= edge_limit; ++t) make_edges(t);
    edges_through_ = std::max(edges_through_, edge_limit);
    // Windows as window_starts lays them out: from the first frame, every
    // `stride`, the last one the first to reach the last frame.
    const int64_t stride = std::max<int64_t>(1, std::min<int64_t>(W / 2, W - G));
    while (!windows_done_) {
        const int64_t w = next_window_;
        if (!final && w + W - 1 + G > C) break;
        build_window(w);
        next_window_ += stride;
        if (final && w + W >= newest_ + 1) windows_done_ = true;
        if (batch_edge_count_ >= o_.batch_edges || static_cast<int64_t>(pending_.size()) >= o_.batch_windows) flush();
    }
    if (final) flush();
    // Edges with a source before the first unscored window are final; a
    // frame's links need the edges into it, so frames up to there link.
    if (pending_.empty()) scored_before_ = next_window_;
    const int64_t scored_before = windows_done_ && pending_.empty() ? newest_ : scored_before_;
    const int64_t step_limit = std::min(scored_before, C);
    for (int64_t t = std::max(stepped_ + 1, base_); t <= step_limit; ++t) step(t);
    const int64_t edge_out = final ? stepped_ : stepped_ - G;
    for (int64_t t = std::max(emitted_through_ + 1, base_); t <= edge_out; ++t) emit_edges(t);
    drop_before(std::min(stepped_ - G, emitted_through_) + 1);
}

void StreamLinker::complete_through(int64_t t) {
    complete_ = std::max(complete_, t);
    run_ready(false);
}

void StreamLinker::finish() {
    run_ready(true);
    drop_before(newest_ + 1);
}

} // namespace magik

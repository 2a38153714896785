#include "spotflow_tracks/challenge_score.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <spotflow_lap/assignment.hpp>
#include <tbb/parallel_for.h>

#include "spotflow_tables/grid.hpp"

namespace spotflow::tracks {

using spotflow::tables::FrameGrid;
namespace {

struct Feasible {
    int64_t est;
    PairComparison cmp;
};

// Estimated tracks with a real point closer than eps to some point of gt
// (interpolated ground-truth points included, as in the reference): exactly
// the pairs the reference's OneToOneMatcher admits.
std::vector<Feasible> feasible_pairs(const Track& gt, const std::vector<Track>& est, const FrameGrid& grid,
                                     double eps) {
    std::vector<int64_t> near;
    for (int64_t f = gt.first_frame; f <= gt.last_frame(); ++f) {
        const TrackPoint& p = gt.at(f);
        grid.for_each_within(f, p.x, p.y, eps, [&](const FrameGrid::Point& q, double) { near.push_back(q.ref); });
    }
    std::sort(near.begin(), near.end());
    near.erase(std::unique(near.begin(), near.end()), near.end());
    std::vector<Feasible> out;
    out.reserve(near.size());
    for (const int64_t e : near) out.push_back({e, compare_tracks(gt, est[static_cast<size_t>(e)], eps)});
    return out;
}

FrameGrid real_points_grid(const std::vector<Track>& tracks, double cell) {
    std::vector<FrameGrid::Point> pts;
    for (size_t i = 0; i < tracks.size(); ++i)
        for (int64_t f = tracks[i].first_frame; f <= tracks[i].last_frame(); ++f) {
            const TrackPoint& p = tracks[i].at(f);
            if (p.real) pts.push_back({f, p.x, p.y, static_cast<int64_t>(i)});
        }
    return FrameGrid(std::move(pts), cell);
}

double ratio(double num, double den) { return den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN(); }

} // namespace

PairComparison compare_with_dummy(const Track& gt, double eps) {
    PairComparison c;
    c.distance = eps * static_cast<double>(gt.span());
    c.missed = gt.span();
    return c;
}

PairComparison compare_tracks(const Track& gt, const Track& est, double eps) {
    const int64_t t0_gt = gt.first_frame, t1_gt = gt.last_frame();
    const int64_t t0_est = est.first_frame, t1_est = est.last_frame();
    const int64_t first = std::max(t0_gt, t0_est), last = std::min(t1_gt, t1_est);
    PairComparison c;
    if (first > last) { // disjoint in time
        c.distance = eps * static_cast<double>(gt.span());
        c.missed = gt.span();
        c.wrong = est.span();
        return c;
    }
    // Frames where only one track exists cost eps each. Like the reference,
    // the estimated track's frames outside the ground truth's span count as
    // false positives by span, interpolated ones included.
    c.wrong = std::max<int64_t>(0, t0_gt - t0_est) + std::max<int64_t>(0, t1_est - t1_gt);
    c.missed = std::max<int64_t>(0, t0_est - t0_gt) + std::max<int64_t>(0, t1_gt - t1_est);
    c.distance = eps * static_cast<double>(std::abs(t0_est - t0_gt) + std::abs(t1_est - t1_gt));
    for (int64_t f = first; f <= last; ++f) {
        const TrackPoint& a = gt.at(f);
        const TrackPoint& b = est.at(f);
        const double dx = a.x - b.x, dy = a.y - b.y;
        const double d = std::sqrt(dx * dx + dy * dy);
        if (b.real && d < eps) {
            c.matching = true;
            c.distance += d;
            ++c.matched;
            c.sum_squared += d * d;
        } else {
            // An interpolated estimated point is a miss, never a false positive.
            if (b.real) ++c.wrong;
            ++c.missed;
            c.distance += eps;
        }
    }
    return c;
}

ChallengeScore score_challenge(const std::vector<Track>& gt, const std::vector<Track>& est, double eps) {
    const FrameGrid grid = real_points_grid(est, eps);
    std::vector<std::vector<Feasible>> feasible(gt.size());
    tbb::parallel_for(size_t{0}, gt.size(), [&](size_t g) { feasible[g] = feasible_pairs(gt[g], est, grid, eps); });

    // Every ground-truth track goes to a distinct estimated track or to its
    // own dummy (cost: its distance to the dummy); an estimated track left
    // over costs nothing here and is spurious.
    std::vector<spotflow::lap::Candidate> candidates;
    std::vector<double> row_cost(gt.size()), col_cost(est.size(), 0.0);
    for (size_t g = 0; g < gt.size(); ++g) {
        row_cost[g] = compare_with_dummy(gt[g], eps).distance;
        for (const Feasible& f : feasible[g])
            candidates.push_back({static_cast<int32_t>(g), static_cast<int32_t>(f.est), f.cmp.distance});
    }
    const spotflow::lap::Assignment a = spotflow::lap::solve(
        static_cast<int32_t>(gt.size()), static_cast<int32_t>(est.size()), candidates, row_cost, col_cost);

    ChallengeScore s;
    s.pairing.assign(gt.size(), -1);
    double sum_squared = 0;
    for (size_t g = 0; g < gt.size(); ++g) {
        const int64_t e = a.row_to_col[g]; // -1: its dummy
        s.gt_dummy_distance += row_cost[g];
        if (e < 0) {
            const PairComparison d = compare_with_dummy(gt[g], eps);
            s.paired_distance += d.distance;
            s.fn += d.missed;
            ++s.missed_tracks;
            continue;
        }
        const auto it = std::find_if(feasible[g].begin(), feasible[g].end(), [&](const Feasible& f) { return f.est == e; });
        const PairComparison& c = it->cmp;
        s.pairing[g] = e;
        s.paired_distance += c.distance;
        s.tp += c.matched;
        s.fn += c.missed;
        s.fp += c.wrong;
        sum_squared += c.sum_squared;
        ++s.paired_tracks;
    }
    for (size_t e = 0; e < est.size(); ++e) {
        if (a.col_to_row[e] >= 0) continue;
        ++s.spurious_tracks;
        s.spurious_dummy_distance += eps * static_cast<double>(est[e].span());
        s.fp += est[e].real_points; // interpolated points of a spurious track are not false positives
    }
    s.alpha = 1.0 - ratio(s.paired_distance, s.gt_dummy_distance);
    s.beta = ratio(s.gt_dummy_distance - s.paired_distance, s.gt_dummy_distance + s.spurious_dummy_distance);
    s.jsc = ratio(static_cast<double>(s.tp), static_cast<double>(s.tp + s.fn + s.fp));
    s.jsc_theta = ratio(static_cast<double>(s.paired_tracks),
                        static_cast<double>(s.paired_tracks + s.missed_tracks + s.spurious_tracks));
    s.rmse_px = s.tp > 0 ? std::sqrt(sum_squared / static_cast<double>(s.tp)) : std::numeric_limits<double>::quiet_NaN();
    return s;
}

} // namespace spotflow::tracks

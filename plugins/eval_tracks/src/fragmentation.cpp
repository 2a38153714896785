#include "fragmentation.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <spotflow_lap/assignment.hpp>
#include <tbb/parallel_for.h>

#include "spotflow_tables/grid.hpp"

namespace eval_tracks {

using spotflow::tables::FrameGrid;
namespace {

struct GtPoint {
    int64_t frame;
    double x;
    double y;
    int64_t gt; // index into the ground-truth tracks
};

// The (ground-truth track, predicted track) index pairs matched in one frame.
std::vector<std::pair<int64_t, int64_t>> match_frame(const GtPoint* pts, size_t n, const FrameGrid& grid,
                                                     const std::vector<int64_t>& point_track, double gate) {
    std::vector<spotflow::lap::Candidate> candidates;
    std::vector<int64_t> cols; // local column -> predicted point
    std::vector<int64_t> point_of; // per candidate
    for (size_t r = 0; r < n; ++r)
        grid.for_each_within(pts[r].frame, pts[r].x, pts[r].y, gate, [&](const FrameGrid::Point& q, double d) {
            candidates.push_back({static_cast<int32_t>(r), 0, d});
            cols.push_back(q.ref);
            point_of.push_back(q.ref);
        });
    if (candidates.empty()) return {};
    std::sort(cols.begin(), cols.end());
    cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
    for (size_t k = 0; k < candidates.size(); ++k)
        candidates[k].col = static_cast<int32_t>(std::lower_bound(cols.begin(), cols.end(), point_of[k]) - cols.begin());
    const auto a = spotflow::lap::solve(static_cast<int32_t>(n), static_cast<int32_t>(cols.size()), candidates,
                                        std::vector<double>(n, gate), std::vector<double>(cols.size(), gate));
    std::vector<std::pair<int64_t, int64_t>> out;
    for (size_t r = 0; r < n; ++r) {
        const int64_t c = a.row_to_col[r];
        if (c >= 0) out.emplace_back(pts[r].gt, point_track[static_cast<size_t>(cols[static_cast<size_t>(c)])]);
    }
    return out;
}

} // namespace

Fragmentation measure_fragmentation(const std::vector<Track>& gt, const std::vector<Track>& predicted, double gate) {
    std::vector<FrameGrid::Point> pred_pts;
    std::vector<int64_t> point_track;
    for (size_t i = 0; i < predicted.size(); ++i)
        for (int64_t f = predicted[i].first_frame; f <= predicted[i].last_frame(); ++f) {
            const TrackPoint& p = predicted[i].at(f);
            if (!p.real) continue;
            pred_pts.push_back({f, p.x, p.y, static_cast<int64_t>(point_track.size())});
            point_track.push_back(static_cast<int64_t>(i));
        }
    const FrameGrid grid(std::move(pred_pts), gate);

    std::vector<GtPoint> gt_pts;
    for (size_t g = 0; g < gt.size(); ++g)
        for (int64_t f = gt[g].first_frame; f <= gt[g].last_frame(); ++f)
            if (gt[g].at(f).real) gt_pts.push_back({f, gt[g].at(f).x, gt[g].at(f).y, static_cast<int64_t>(g)});
    std::stable_sort(gt_pts.begin(), gt_pts.end(), [](const GtPoint& a, const GtPoint& b) { return a.frame < b.frame; });
    std::vector<size_t> frame_start;
    for (size_t i = 0; i < gt_pts.size(); ++i)
        if (i == 0 || gt_pts[i].frame != gt_pts[i - 1].frame) frame_start.push_back(i);
    frame_start.push_back(gt_pts.size());

    std::vector<std::vector<std::pair<int64_t, int64_t>>> matches(frame_start.size() - 1);
    tbb::parallel_for(size_t{0}, matches.size(), [&](size_t k) {
        matches[k] = match_frame(gt_pts.data() + frame_start[k], frame_start[k + 1] - frame_start[k], grid, point_track,
                                 gate);
    });

    Fragmentation out;
    out.per_gt.resize(gt.size());
    for (size_t g = 0; g < gt.size(); ++g) {
        out.per_gt[g].gt_track_id = gt[g].id;
        out.per_gt[g].length = gt[g].real_points;
    }
    for (const auto& frame : matches)
        for (const auto& [g, p] : frame) {
            GtCoverage& c = out.per_gt[static_cast<size_t>(g)];
            ++c.matched_points;
            c.predicted_track_ids.push_back(predicted[static_cast<size_t>(p)].id);
        }
    double total = 0;
    for (GtCoverage& c : out.per_gt) {
        auto& ids = c.predicted_track_ids;
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        if (ids.empty()) continue;
        ++out.covered_gt_tracks;
        total += static_cast<double>(ids.size());
    }
    out.mean = out.covered_gt_tracks > 0 ? total / static_cast<double>(out.covered_gt_tracks)
                                         : std::numeric_limits<double>::quiet_NaN();
    return out;
}

} // namespace eval_tracks

#include "spotflow_tracks/tracks.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"

namespace spotflow::tracks {
namespace {

bool missing(const TrackRow& r) { return std::isnan(r.x) || std::isnan(r.y); }

// rows[begin, end) are one track's, sorted by frame, with no missing position.
Track make_track(const std::vector<TrackRow>& rows, size_t begin, size_t end) {
    Track t;
    t.id = rows[begin].track_id;
    t.first_frame = rows[begin].frame;
    t.points.reserve(static_cast<size_t>(rows[end - 1].frame - t.first_frame + 1));
    for (size_t i = begin; i < end; ++i) {
        const TrackRow& r = rows[i];
        if (i > begin) {
            const TrackRow& p = rows[i - 1];
            // Same expression as the reference importer, so interpolated points agree bit for bit.
            const double inv_gap = 1.0 / (static_cast<double>(r.frame) - static_cast<double>(p.frame));
            for (int64_t f = p.frame + 1; f < r.frame; ++f) {
                const double k = static_cast<double>(f - p.frame);
                t.points.push_back({p.x + k * (r.x - p.x) * inv_gap, p.y + k * (r.y - p.y) * inv_gap, false});
            }
        }
        t.points.push_back({r.x, r.y, true});
    }
    t.real_points = static_cast<int64_t>(end - begin);
    return t;
}

} // namespace

TrackSet build_tracks(std::vector<TrackRow> rows, const std::string& what) {
    std::sort(rows.begin(), rows.end(), [](const TrackRow& a, const TrackRow& b) {
        return a.track_id != b.track_id ? a.track_id < b.track_id : a.frame < b.frame;
    });
    TrackSet set;
    // Gaps are filled by interpolation, one point per frame: a typo'd frame
    // (1e9) would allocate a point per frame up to it. The filled points may
    // outnumber the rows 16-fold (at least 4 M points, ~100 MB), no more.
    const uint64_t max_points = std::max<uint64_t>(uint64_t{4} << 20, 16 * static_cast<uint64_t>(rows.size()));
    uint64_t points = 0;
    for (size_t begin = 0; begin < rows.size();) {
        size_t end = begin;
        while (end < rows.size() && rows[end].track_id == rows[begin].track_id) {
            if (rows[end].frame < 0)
                throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("{}: track {} has frame {}; frames count from 0", what,
                                              rows[end].track_id, rows[end].frame));
            if (end > begin && rows[end].frame == rows[end - 1].frame)
                throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("{}: track {} has two points in frame {}", what, rows[end].track_id,
                                              rows[end].frame));
            ++end;
        }
        size_t first = begin, last = end;
        while (first < last && missing(rows[first])) ++first;
        while (last > first && missing(rows[last - 1])) --last;
        const bool inner_missing = std::any_of(rows.begin() + static_cast<std::ptrdiff_t>(first),
                                               rows.begin() + static_cast<std::ptrdiff_t>(last), missing);
        if (first == last || inner_missing) {
            ++set.dropped_nan_tracks;
        } else {
            const auto span = static_cast<uint64_t>(rows[last - 1].frame - rows[first].frame) + 1;
            points += span;
            if (points > max_points)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("{}: track {} spans frames {}..{} with {} points; filling its gaps would "
                                              "take {} points, more than this table's bound of {} (a wrong frame number?)",
                                              what, rows[first].track_id, rows[first].frame, rows[last - 1].frame,
                                              last - first, points, max_points));
            set.trimmed_nan_points += static_cast<int64_t>((first - begin) + (end - last));
            set.tracks.push_back(make_track(rows, first, last));
        }
        begin = end;
    }
    return set;
}

std::vector<Track> keep_min_length(std::vector<Track> tracks, int64_t min_points) {
    tracks.erase(std::remove_if(tracks.begin(), tracks.end(),
                                [&](const Track& t) { return t.real_points < min_points; }),
                 tracks.end());
    return tracks;
}

} // namespace spotflow::tracks

#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "spotflow/plugin_error.hpp"

namespace tracks_summary {

using spotflow::PluginError;

void Summary::add(const spotflow::TableView& t) {
    int64_t f, x, y, id;
    try {
        f = t.require("frame"), x = t.require("x"), y = t.require("y"), id = t.require("track_id");
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks table: ") + e.what());
    }
    for (int64_t r = 0; r < t.rows(); ++r, ++rows_) {
        if (t.is_null(id, r) || t.is_null(f, r))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "tracks row " + std::to_string(rows_) + " has no " +
                                                                 (t.is_null(id, r) ? "track_id" : "frame"));
        Acc& a = acc_[t.get_int(id, r)];
        const double px = t.get_double(x, r), py = t.get_double(y, r);
        if (std::isnan(px) || std::isnan(py)) continue;
        const int64_t frame = t.get_int(f, r);
        if (a.n == 0 || frame < a.first) a.first = frame;
        if (a.n == 0 || frame > a.last) a.last = frame;
        ++a.n;
        a.sx += px;
        a.sy += py;
    }
}

std::vector<TrackStats> Summary::tracks() const {
    std::vector<TrackStats> out;
    out.reserve(acc_.size());
    for (const auto& [id, a] : acc_)
        if (a.n > 0)
            out.push_back({id, a.n, a.first, a.last, a.last - a.first + 1, a.sx / static_cast<double>(a.n),
                           a.sy / static_cast<double>(a.n)});
    std::sort(out.begin(), out.end(), [](const TrackStats& a, const TrackStats& b) { return a.track_id < b.track_id; });
    return out;
}

int64_t Summary::empty_tracks() const {
    return std::count_if(acc_.begin(), acc_.end(), [](const auto& kv) { return kv.second.n == 0; });
}

} // namespace tracks_summary

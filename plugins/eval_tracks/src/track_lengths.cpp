#include "track_lengths.hpp"

#include <algorithm>
#include <limits>

namespace eval_tracks {

LengthClass length_class(int64_t points) {
    if (points <= 3) return LengthClass::Short;
    if (points <= 10) return LengthClass::Medium;
    return LengthClass::Long;
}

const char* length_class_name(LengthClass c) {
    switch (c) {
    case LengthClass::Short: return "short";
    case LengthClass::Medium: return "medium";
    case LengthClass::Long: return "long";
    }
    return "";
}

std::vector<int64_t> track_lengths(const std::vector<Track>& tracks) {
    std::vector<int64_t> out;
    out.reserve(tracks.size());
    for (const Track& t : tracks) out.push_back(t.real_points);
    return out;
}

LengthSummary summarize_lengths(const std::vector<int64_t>& lengths) {
    LengthSummary s;
    s.n_tracks = static_cast<int64_t>(lengths.size());
    if (lengths.empty()) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        s.mean = s.median = s.short_fraction = s.medium_fraction = s.long_fraction = nan;
        return s;
    }
    std::vector<int64_t> sorted = lengths;
    std::sort(sorted.begin(), sorted.end());
    double total = 0;
    for (const int64_t n : sorted) {
        total += static_cast<double>(n);
        switch (length_class(n)) {
        case LengthClass::Short: ++s.n_short; break;
        case LengthClass::Medium: ++s.n_medium; break;
        case LengthClass::Long: ++s.n_long; break;
        }
    }
    const size_t m = sorted.size();
    const double n = static_cast<double>(m);
    s.mean = total / n;
    s.median = m % 2 ? static_cast<double>(sorted[m / 2])
                     : 0.5 * (static_cast<double>(sorted[m / 2 - 1]) + static_cast<double>(sorted[m / 2]));
    s.short_fraction = static_cast<double>(s.n_short) / n;
    s.medium_fraction = static_cast<double>(s.n_medium) / n;
    s.long_fraction = static_cast<double>(s.n_long) / n;
    return s;
}

} // namespace eval_tracks

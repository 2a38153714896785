#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "spotflow/plugin_error.hpp"

namespace magik {

namespace {

[[noreturn]] void bad(const std::string& what, const std::string& why) {
    throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, what + ": " + why);
}

template <class F> auto column(const std::string& what, F&& f) {
    try {
        return f();
    } catch (const std::invalid_argument& e) {
        bad(what, e.what());
    }
}

void check_positions(const std::string& what, const std::vector<double>& x, const std::vector<double>& y) {
    for (size_t i = 0; i < x.size(); ++i)
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
            bad(what, "row " + std::to_string(i) + " has a missing or non-finite x or y");
}

} // namespace

Detections read_detections(const spotflow::tables::TableAccumulator& t, const std::string& what) {
    Detections d;
    if (t.rows() == 0 && t.names().empty()) return d; // no batch at all: an empty movie
    d.frame = column(what, [&] { return t.ints("frame"); });
    d.x = column(what, [&] { return t.doubles("x"); });
    d.y = column(what, [&] { return t.doubles("y"); });
    check_positions(what, d.x, d.y);
    if (!d.frame.empty()) {
        // The graph keeps per-frame offsets; a frame column in other units
        // (a time stamp in ms, say) would ask for absurd memory.
        const auto [lo, hi] = std::minmax_element(d.frame.begin(), d.frame.end());
        if (*hi - *lo >= kMaxFrameSpan)
            bad(what, "frames run from " + std::to_string(*lo) + " to " + std::to_string(*hi) + ", more than " +
                          std::to_string(kMaxFrameSpan) + " frames: is 'frame' a frame index?");
    }
    const auto optional = [&](const char* name) {
        return t.has(name) ? column(what, [&] { return t.doubles(name); }) : std::vector<double>(d.size(), NAN);
    };
    d.probability = optional("probability");
    d.photons = optional("photons");
    return d;
}

Truth read_truth(const spotflow::tables::TableAccumulator& t, const std::string& what) {
    Truth r;
    if (t.rows() == 0 && t.names().empty()) return r;
    r.frame = column(what, [&] { return t.ints("frame"); });
    r.x = column(what, [&] { return t.doubles("x"); });
    r.y = column(what, [&] { return t.doubles("y"); });
    r.id = column(what, [&] { return t.ints("track_id"); });
    check_positions(what, r.x, r.y);
    return r;
}

} // namespace magik

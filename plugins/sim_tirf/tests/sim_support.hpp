// Helpers shared by the simulator's tests: params from the schema's
// defaults, a whole sim.tirf run collected into plain vectors, TIFF pages.
#pragma once

#include <tiffio.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../../tests/support/plugin_harness.hpp"

namespace simtest {

using spotflow::testing::FakeHost;
using spotflow::testing::NodeRunner;
using spotflow::testing::PluginLibrary;

inline PluginLibrary& library() {
    static PluginLibrary lib(PLUGIN_PATH);
    return lib;
}
inline const spotflow_plugin_desc& tirf() { return library().plugin("sim.tirf"); }
inline const spotflow_plugin_desc& dataset() { return library().plugin("sim.dataset"); }

// Every param at its schema default, then the overrides (what the host does).
inline nlohmann::json params(const spotflow_plugin_desc& d, const nlohmann::json& overrides = nlohmann::json::object()) {
    nlohmann::json p = nlohmann::json::object();
    const auto schema = nlohmann::json::parse(d.params_schema);
    for (const auto& [name, prop] : schema.at("properties").items())
        p[name] = prop.at("default");
    for (const auto& [name, value] : overrides.items()) p[name] = value;
    return p;
}

struct Row {
    int64_t frame, track_id;
    double x, y, photons;
    bool operator==(const Row& o) const {
        return frame == o.frame && track_id == o.track_id && x == o.x && y == o.y && photons == o.photons;
    }
};

struct Event {
    int64_t track_id, onset_frame, peak_frame;
    double amplitude_dff, decay_frames;
};

// Everything one sim.tirf run emits.
struct SimRun {
    std::vector<uint16_t> movie, calcium;
    std::vector<Row> truth;
    std::vector<Event> events;
    std::vector<spotflow_stream_info> movie_info, truth_info, calcium_info, event_info;
    std::vector<int32_t> ports; // in emission order
    std::string error;
};

inline SimRun run_tirf(const nlohmann::json& overrides) {
    SimRun r;
    FakeHost host;
    NodeRunner node(tirf(), host, params(tirf(), overrides).dump());
    if (!node.created()) {
        r.error = host.error;
        return r;
    }
    if (node.pull_all() != SPOTFLOW_OK || node.finish() != SPOTFLOW_OK) {
        r.error = host.error;
        return r;
    }
    for (const auto& p : node.emitted) {
        r.ports.push_back(p->port);
        if (p->port == 0 || p->port == 2) {
            spotflow::TensorView<uint16_t> v(p->p.tensor->dl_tensor);
            auto& dst = p->port == 0 ? r.movie : r.calcium;
            dst.insert(dst.end(), v.data(), v.data() + v.size());
            (p->port == 0 ? r.movie_info : r.calcium_info).push_back(p->p.info);
        } else if (p->port == 1) {
            const auto t = p->table();
            for (int64_t i = 0; i < t.rows(); ++i)
                r.truth.push_back({t.get_int(t.require("frame"), i), t.get_int(t.require("track_id"), i),
                                   t.get_double(t.require("x"), i), t.get_double(t.require("y"), i),
                                   t.get_double(t.require("photons"), i)});
            r.truth_info.push_back(p->p.info);
        } else {
            const auto t = p->table();
            for (int64_t i = 0; i < t.rows(); ++i)
                r.events.push_back({t.get_int(t.require("track_id"), i), t.get_int(t.require("onset_frame"), i),
                                    t.get_int(t.require("peak_frame"), i), t.get_double(t.require("amplitude_dff"), i),
                                    t.get_double(t.require("decay_frames"), i)});
            r.event_info.push_back(p->p.info);
        }
    }
    return r;
}

// All pages of a uint16 TIFF, concatenated; the page size through w and h.
inline std::vector<uint16_t> read_tiff(const std::string& path, uint32_t* w = nullptr, uint32_t* h = nullptr,
                                       int* pages = nullptr) {
    std::vector<uint16_t> all;
    TIFF* t = TIFFOpen(path.c_str(), "r");
    if (!t) return all;
    int n = 0;
    do {
        uint32_t width = 0, height = 0;
        TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width);
        TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height);
        if (w) *w = width;
        if (h) *h = height;
        std::vector<uint16_t> row(width);
        for (uint32_t y = 0; y < height; ++y) {
            TIFFReadScanline(t, row.data(), y);
            all.insert(all.end(), row.begin(), row.end());
        }
        ++n;
    } while (TIFFReadDirectory(t));
    TIFFClose(t);
    if (pages) *pages = n;
    return all;
}

} // namespace simtest

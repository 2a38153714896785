#include "trackmate_xml.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "feature_keys.hpp"
#include "spotflow/plugin_error.hpp"
#include "xml_writer.hpp"

namespace write_trackmate {
namespace {

using spotflow::PluginError;

struct Feature {
    const char* key;
    const char* name;
    const char* shortname;
    const char* dimension;
    bool is_int;
};

// The feature keys, names and dimensions of TrackMate's own analyzers
// (Spot, EdgeTargetAnalyzer, TrackIndexAnalyzer, TrackBranchingAnalyzer,
// TrackDurationAnalyzer), limited to those this writer fills.
const Feature kSpotFeatures[] = {
    {"QUALITY", "Quality", "Quality", "QUALITY", false},
    {"POSITION_X", "X", "X", "POSITION", false},
    {"POSITION_Y", "Y", "Y", "POSITION", false},
    {"POSITION_Z", "Z", "Z", "POSITION", false},
    {"POSITION_T", "T", "T", "TIME", false},
    {"FRAME", "Frame", "Frame", "NONE", true},
    {"RADIUS", "Radius", "R", "LENGTH", false},
    {"VISIBILITY", "Visibility", "Visibility", "NONE", true},
};
const Feature kEdgeFeatures[] = {
    {"SPOT_SOURCE_ID", "Source spot ID", "Source ID", "NONE", true},
    {"SPOT_TARGET_ID", "Target spot ID", "Target ID", "NONE", true},
    {"LINK_COST", "Edge cost", "Cost", "COST", false},
};
const Feature kTrackFeatures[] = {
    {"TRACK_INDEX", "Track index", "Index", "NONE", true},
    {"TRACK_ID", "Track ID", "ID", "NONE", true},
    {"NUMBER_SPOTS", "Number of spots in track", "N spots", "NONE", true},
    {"NUMBER_GAPS", "Number of gaps", "N gaps", "NONE", true},
    {"LONGEST_GAP", "Longest gap", "Lgst gap", "NONE", true},
    {"TRACK_DURATION", "Track duration", "Duration", "TIME", false},
    {"TRACK_START", "Track start", "Track start", "TIME", false},
    {"TRACK_STOP", "Track stop", "Track stop", "TIME", false},
};

void declare(XmlWriter& x, const Feature& f) {
    x.open("Feature");
    x.attr("feature", f.key);
    x.attr("name", f.name);
    x.attr("shortname", f.shortname);
    x.attr("dimension", f.dimension);
    x.attr("isint", f.is_int ? "true" : "false");
    x.close_empty();
}

// The <Spot> attributes an extra column must not become: those this writer
// sets, and those TmXmlReader.createSpotFrom reads as something other than a
// feature (ID, name, and ROI_N_POINTS, which would make it parse the spot's
// text as polygon coordinates).
std::set<std::string> reserved_spot_keys() {
    std::set<std::string> keys = {"ID", "name", "ROI_N_POINTS"};
    for (const Feature& f : kSpotFeatures) keys.insert(f.key);
    return keys;
}

// TrackMate's display settings (DisplaySettingsIO JSON): tracks coloured by
// track index, spots drawn as circles of their radius.
std::string display_settings() {
    nlohmann::ordered_json j;
    j["name"] = "CurrentDisplaySettings";
    j["spotUniformColor"] = "204, 51, 204, 255";
    j["spotColorByType"] = "TRACKS";
    j["spotColorByFeature"] = "TRACK_INDEX";
    j["spotDisplayRadius"] = 1.0;
    j["spotDisplayedAsRoi"] = true;
    j["spotMin"] = 0.0;
    j["spotMax"] = 10.0;
    j["spotShowName"] = false;
    j["trackMin"] = 0.0;
    j["trackMax"] = 10.0;
    j["trackColorByType"] = "TRACKS";
    j["trackColorByFeature"] = "TRACK_INDEX";
    j["trackUniformColor"] = "204, 204, 51, 255";
    j["undefinedValueColor"] = "0, 0, 0, 255";
    j["missingValueColor"] = "89, 89, 89, 255";
    j["highlightColor"] = "51, 230, 51, 255";
    j["trackDisplayMode"] = "FULL";
    j["colormap"] = "Jet";
    j["limitZDrawingDepth"] = false;
    j["drawingZDepth"] = 10.0;
    j["fadeTracks"] = true;
    j["fadeTrackRange"] = 30;
    j["useAntialiasing"] = true;
    j["spotVisible"] = true;
    j["trackVisible"] = true;
    j["font"] = {{"name", "Arial"}, {"style", 1}, {"size", 12}};
    j["lineThickness"] = 1.0;
    j["selectionLineThickness"] = 4.0;
    j["trackschemeBackgroundColor1"] = "128, 128, 128, 255";
    j["trackschemeBackgroundColor2"] = "192, 192, 192, 255";
    j["trackschemeForegroundColor"] = "0, 0, 0, 255";
    j["trackschemeDecorationColor"] = "0, 0, 0, 255";
    j["trackschemeFillBox"] = false;
    j["spotFilled"] = false;
    j["spotTransparencyAlpha"] = 1.0;
    return j.dump(2);
}

} // namespace

Written write_trackmate(const std::string& path, const TrackTable& table, const Calibration& cal,
                        const ImageInfo& image) {
    const std::vector<Point>& pts = table.points();
    const double um = cal.pixel_size_um > 0 ? cal.pixel_size_um : 1.0; // physical units per px
    const double dt = cal.frame_interval_s > 0 ? cal.frame_interval_s : 1.0;

    // Spot ids follow (frame, track): AllSpots lists frames in order.
    std::vector<size_t> order(pts.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::tie(pts[a].frame, pts[a].track) < std::tie(pts[b].frame, pts[b].track);
    });
    std::vector<int64_t> spot_id(pts.size());
    for (size_t k = 0; k < order.size(); ++k) spot_id[order[k]] = static_cast<int64_t>(k);

    std::map<int64_t, std::vector<size_t>> tracks; // by track id, points by frame
    for (const size_t i : order) tracks[pts[i].track].push_back(i);
    for (const auto& [id, members] : tracks)
        for (size_t k = 1; k < members.size(); ++k)
            if (pts[members[k]].frame == pts[members[k - 1]].frame)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "track " + std::to_string(id) +
                                                                     " has two points in frame " +
                                                                     std::to_string(pts[members[k]].frame));

    int64_t width = image.width, height = image.height, frames = image.frames;
    for (const Point& p : pts) {
        // The pixel holding a point: its index rounds the coordinate.
        if (image.width <= 0) width = std::max(width, static_cast<int64_t>(std::floor(p.x + 0.5)) + 1);
        if (image.height <= 0) height = std::max(height, static_cast<int64_t>(std::floor(p.y + 0.5)) + 1);
        if (image.frames <= 0) frames = std::max(frames, p.frame + 1);
    }
    width = std::max<int64_t>(width, 1), height = std::max<int64_t>(height, 1), frames = std::max<int64_t>(frames, 1);

    Written w;
    w.spots = static_cast<int64_t>(pts.size());
    const int64_t quality_col = [&] {
        for (size_t k = 0; k < table.extras().size(); ++k)
            if (table.extras()[k].name == "probability") return static_cast<int64_t>(k);
        return int64_t{-1};
    }();
    std::vector<std::string> extra_names;
    for (const ExtraColumn& e : table.extras()) extra_names.push_back(e.name);
    const std::vector<std::string> extra_keys = unique_feature_keys(extra_names, reserved_spot_keys());

    XmlWriter x(path);
    x.open("TrackMate");
    // The session-file format of TrackMate 7; its loader refuses files below 2.1.0.
    x.attr("version", "7.0.0");
    x.close_start();
    x.element_text("Log", fmt::format("Tracks written by spotflow write.trackmate_xml 1.0.0: {} spots.", pts.size()));

    x.open("Model");
    x.attr("spatialunits", cal.pixel_size_um > 0 ? "µm" : "pixel");
    x.attr("timeunits", cal.frame_interval_s > 0 ? "sec" : "frame");
    x.close_start();

    x.open("FeatureDeclarations");
    x.close_start();
    x.open("SpotFeatures");
    x.close_start();
    for (const Feature& f : kSpotFeatures) declare(x, f);
    for (size_t k = 0; k < extra_keys.size(); ++k) {
        const ExtraColumn& e = table.extras()[k];
        declare(x, {extra_keys[k].c_str(), e.name.c_str(), e.name.c_str(), "NONE", e.is_int});
    }
    x.end("SpotFeatures");
    x.open("EdgeFeatures");
    x.close_start();
    for (const Feature& f : kEdgeFeatures) declare(x, f);
    x.end("EdgeFeatures");
    x.open("TrackFeatures");
    x.close_start();
    for (const Feature& f : kTrackFeatures) declare(x, f);
    x.end("TrackFeatures");
    x.end("FeatureDeclarations");

    x.open("AllSpots");
    x.attr("nspots", w.spots);
    x.close_start();
    int64_t current_frame = -1;
    const std::string spot_radius = java_number(image.radius_px * um);
    for (const size_t i : order) {
        const Point& p = pts[i];
        if (p.frame != current_frame) {
            if (current_frame >= 0) x.end("SpotsInFrame");
            x.open("SpotsInFrame");
            x.attr("frame", p.frame);
            x.close_start();
            current_frame = p.frame;
        }
        x.open("Spot");
        x.attr("ID", spot_id[i]);
        x.attr("name", "ID" + std::to_string(spot_id[i]));
        const double q = quality_col >= 0 ? table.extra(i, static_cast<size_t>(quality_col)) : NAN;
        x.attr("QUALITY", std::isnan(q) ? 1.0 : q);
        x.attr("POSITION_X", p.x * um);
        x.attr("POSITION_Y", p.y * um);
        x.attr("POSITION_Z", p.z * um);
        x.attr("POSITION_T", static_cast<double>(p.frame) * dt);
        x.attr("FRAME", p.frame);
        x.attr("RADIUS", std::string_view(spot_radius));
        x.attr("VISIBILITY", int64_t{1});
        for (size_t k = 0; k < extra_keys.size(); ++k) {
            const double v = table.extra(i, k);
            if (std::isnan(v)) continue; // TrackMate leaves a missing feature out
            if (table.extras()[k].is_int) x.attr(extra_keys[k], static_cast<int64_t>(v));
            else x.attr(extra_keys[k], v);
        }
        x.close_empty();
    }
    if (current_frame >= 0) x.end("SpotsInFrame");
    x.end("AllSpots");

    // TrackMate has no track without an edge (TmXmlWriter skips them): a
    // one-point track stays a lone spot.
    x.open("AllTracks");
    x.close_start();
    int64_t index = 0;
    for (const auto& [id, members] : tracks) {
        if (members.size() < 2) {
            ++w.lone_spots;
            continue;
        }
        int64_t gaps = 0, longest = 0;
        for (size_t k = 1; k < members.size(); ++k) {
            const int64_t gap = pts[members[k]].frame - pts[members[k - 1]].frame - 1;
            if (gap > 0) ++gaps, longest = std::max(longest, gap);
        }
        const double start = static_cast<double>(pts[members.front()].frame) * dt;
        const double stop = static_cast<double>(pts[members.back()].frame) * dt;
        x.open("Track");
        x.attr("name", "Track_" + std::to_string(id));
        x.attr("TRACK_ID", id);
        x.attr("TRACK_INDEX", index++);
        x.attr("NUMBER_SPOTS", static_cast<int64_t>(members.size()));
        x.attr("NUMBER_GAPS", gaps);
        x.attr("LONGEST_GAP", longest);
        x.attr("TRACK_DURATION", stop - start);
        x.attr("TRACK_START", start);
        x.attr("TRACK_STOP", stop);
        x.close_start();
        for (size_t k = 1; k < members.size(); ++k) {
            const Point& a = pts[members[k - 1]];
            const Point& b = pts[members[k]];
            const double dx = (b.x - a.x) * um, dy = (b.y - a.y) * um, dz = (b.z - a.z) * um;
            x.open("Edge");
            x.attr("SPOT_SOURCE_ID", spot_id[members[k - 1]]);
            x.attr("SPOT_TARGET_ID", spot_id[members[k]]);
            // The cost TrackMate's LAP trackers give a link with no feature
            // penalty: the squared displacement.
            x.attr("LINK_COST", dx * dx + dy * dy + dz * dz);
            x.close_empty();
        }
        x.end("Track");
        ++w.tracks;
    }
    x.end("AllTracks");
    x.open("FilteredTracks");
    x.close_start();
    for (const auto& [id, members] : tracks) {
        if (members.size() < 2) continue;
        x.open("TrackID");
        x.attr("TRACK_ID", id);
        x.close_empty();
    }
    x.end("FilteredTracks");
    x.end("Model");

    x.open("Settings");
    x.close_start();
    x.open("ImageData");
    x.attr("filename", image.filename);
    x.attr("folder", "");
    x.attr("width", width);
    x.attr("height", height);
    x.attr("nslices", int64_t{1});
    x.attr("nframes", frames);
    x.attr("pixelwidth", um);
    x.attr("pixelheight", um);
    x.attr("voxeldepth", um);
    x.attr("timeinterval", dt);
    x.close_empty();
    x.open("BasicSettings");
    x.attr("xstart", int64_t{0});
    x.attr("xend", width - 1);
    x.attr("ystart", int64_t{0});
    x.attr("yend", height - 1);
    x.attr("zstart", int64_t{0});
    x.attr("zend", int64_t{0});
    x.attr("tstart", int64_t{0});
    x.attr("tend", frames - 1);
    x.close_empty();
    // The manual detector and tracker: the file carries results, not a
    // detection or tracking to rerun.
    x.open("DetectorSettings");
    x.attr("DETECTOR_NAME", "MANUAL_DETECTOR");
    x.attr("RADIUS", std::string_view(spot_radius));
    x.close_empty();
    x.open("InitialSpotFilter");
    x.attr("feature", "QUALITY");
    x.attr("value", "0.0");
    x.attr("isabove", "true");
    x.close_empty();
    x.open("SpotFilterCollection");
    x.close_empty();
    x.open("TrackerSettings");
    x.attr("TRACKER_NAME", "MANUAL_TRACKER");
    x.close_empty();
    x.open("TrackFilterCollection");
    x.close_empty();
    x.open("AnalyzerCollection");
    x.close_start();
    x.open("SpotAnalyzers");
    x.close_empty();
    x.open("EdgeAnalyzers");
    x.close_start();
    x.open("Analyzer");
    x.attr("key", "Edge target");
    x.close_empty();
    x.end("EdgeAnalyzers");
    x.open("TrackAnalyzers");
    x.close_start();
    for (const char* key : {"Branching analyzer", "Track duration", "Track index"}) {
        x.open("Analyzer");
        x.attr("key", key);
        x.close_empty();
    }
    x.end("TrackAnalyzers");
    x.end("AnalyzerCollection");
    x.end("Settings");

    x.open("GUIState");
    x.attr("state", "ConfigureViews");
    x.close_empty();
    x.element_text("DisplaySettings", display_settings());
    x.end("TrackMate");
    x.finish();
    return w;
}

} // namespace write_trackmate

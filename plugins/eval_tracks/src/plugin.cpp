// eval.tracks: scores one or several trackers' tracks against ground truth
// with the particle tracking challenge measures and the seed pipeline's
// track statistics. Collects every batch, computes at finish.
#include <algorithm>
#include <cmath>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "errors.hpp"
#include "evaluation.hpp"
#include "figures.hpp"
#include "params.hpp"
#include "reports.hpp"
#include "spotflow/node.hpp"
#include "spotflow/entry.hpp"
#include "table_input.hpp"

namespace eval_tracks {
namespace {

constexpr int32_t kTracksPort = 0;
constexpr int32_t kTruthPort = 1;

struct TrackerFiles { // full paths; "" = not written
    std::string track_statistics, fragmentation, track_length_analysis, diagnostic_summary;
};

struct TrackerInput {
    std::string label;
    std::string source;
    RowsIn rows;
    TrackerFiles files;
    std::string what() const { return fmt::format("tracks of '{}' from '{}'", label, source); }
};

struct Evaluator {
    const spotflow_host* host;
    Params params;
    std::vector<TrackerInput> trackers; // one per edge into 'tracks'
    RowsIn truth;
    std::string truth_source;
    std::string comparison_csv, comparison_png;
    double stream_pixel_size_nm = 0;
};

std::string source_of(const spotflow_host* host, int32_t port, int32_t edge) {
    const char* s = host->input_source(host, port, edge);
    return s ? s : fmt::format("edge {}", edge);
}

// Upstream node ids; where two edges share one, "node.port"; where that
// still collides, the edge index is appended.
std::vector<std::string> default_labels(const std::vector<std::string>& sources) {
    std::vector<std::string> labels;
    for (const auto& s : sources) labels.push_back(s.substr(0, s.find('.')));
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<std::string> next = labels;
        for (size_t i = 0; i < labels.size(); ++i)
            if (std::count(labels.begin(), labels.end(), labels[i]) > 1)
                next[i] = pass == 0 ? sources[i] : fmt::format("{}_{}", labels[i], i);
        labels = std::move(next);
    }
    return labels;
}

// A tracker's folder name: its label with anything but [A-Za-z0-9._-] as '_'.
std::string folder_name(const std::string& label, size_t edge) {
    std::string s = label;
    for (char& c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
    return s.empty() || s == "." || s == ".." ? fmt::format("tracker_{}", edge) : s;
}

std::string claim(const spotflow_host* host, const std::string& name) {
    if (name.empty()) return {};
    std::string path = spotflow::output_path(host, name);
    // The host makes the folders of a nested name; a test host may not.
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    return path;
}

void setup_trackers(Evaluator& ev) {
    const spotflow_host* host = ev.host;
    const int32_t n = host->input_count(host, kTracksPort);
    if (n < 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "input 'tracks' has no edge; connect a tracker");
    std::vector<std::string> sources;
    for (int32_t e = 0; e < n; ++e) sources.push_back(source_of(host, kTracksPort, e));
    const auto& given = ev.params.labels;
    if (!given.empty() && given.size() != static_cast<size_t>(n))
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          fmt::format("labels has {} names but 'tracks' has {} edges", given.size(), n));
    const std::vector<std::string> labels = given.empty() ? default_labels(sources) : given;
    for (size_t i = 0; i < labels.size(); ++i)
        if (std::count(labels.begin(), labels.end(), labels[i]) > 1)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "labels names '" + labels[i] + "' twice");
    for (const auto& [label, seconds] : ev.params.wall_times_s)
        if (std::find(labels.begin(), labels.end(), label) == labels.end())
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              fmt::format("wall_times_s names '{}', which is no tracker (trackers: {})", label,
                                          fmt::join(labels, ", ")));

    const FileNames& f = ev.params.files;
    const bool comparing = n > 1;
    for (int32_t e = 0; e < n; ++e) {
        const std::string dir = comparing ? folder_name(labels[static_cast<size_t>(e)], static_cast<size_t>(e)) + "/" : "";
        const auto in_dir = [&](const std::string& name) { return name.empty() ? name : dir + name; };
        TrackerInput t;
        t.label = labels[static_cast<size_t>(e)];
        t.source = sources[static_cast<size_t>(e)];
        t.files = {claim(host, in_dir(f.track_statistics)), claim(host, in_dir(f.fragmentation)),
                   claim(host, in_dir(f.track_length_analysis)), claim(host, in_dir(f.diagnostic_summary))};
        ev.trackers.push_back(std::move(t));
    }
    if (comparing) {
        ev.comparison_csv = claim(host, f.comparison);
        ev.comparison_png = claim(host, f.comparison_plot);
    }
    ev.truth_source = source_of(host, kTruthPort, 0);
}

Evaluator make_state(const spotflow_host* host, const char* params_json) {
    Evaluator ev;
    ev.host = host;
    ev.params = parse_params(params_json);
    setup_trackers(ev);
    return ev;
}

spotflow_status process(Evaluator& ev, const spotflow_input* input, const spotflow_packet* packet,
                        const spotflow_emitter*) {
    if (input->port == kTruthPort) {
        append_rows(*packet, "truth from '" + ev.truth_source + "'", false, ev.truth);
        return SPOTFLOW_OK;
    }
    if (input->edge < 0 || static_cast<size_t>(input->edge) >= ev.trackers.size())
        throw PluginError(SPOTFLOW_ERR_INTERNAL, fmt::format("tracks arrived on edge {}, but the host announced {}",
                                                             input->edge, ev.trackers.size()));
    TrackerInput& t = ev.trackers[static_cast<size_t>(input->edge)];
    append_rows(*packet, t.what(), true, t.rows);
    if (packet->info.pixel_size_nm > 0) ev.stream_pixel_size_nm = packet->info.pixel_size_nm;
    return SPOTFLOW_OK;
}

std::vector<Track> tracks_of(const spotflow_host* host, RowsIn rows, const std::string& what) {
    TrackSet set = build_tracks(std::move(rows.rows), what);
    if (rows.unlinked > 0)
        host->log(host, SPOTFLOW_LOG_INFO,
                  fmt::format("{}: {} rows without track_id are not tracks; ignored", what, rows.unlinked).c_str());
    if (set.dropped_nan_tracks > 0 || set.trimmed_nan_points > 0)
        host->log(host, SPOTFLOW_LOG_WARNING,
                  fmt::format("{}: {} tracks with a missing position inside dropped, {} missing end points trimmed",
                              what, set.dropped_nan_tracks, set.trimmed_nan_points)
                      .c_str());
    return std::move(set.tracks);
}

std::string fixed(double v, int digits) { return std::isnan(v) ? "n/a" : fmt::format("{:.{}f}", v, digits); }

void log_result(const spotflow_host* host, const Evaluation& e, int64_t n_gt) {
    const ChallengeScore& s = e.challenge;
    host->log(host, SPOTFLOW_LOG_INFO,
              fmt::format("{}: alpha {}, beta {}, JSC {}, JSC_theta {}, RMSE {} px; fragmentation {} over {}/{} "
                          "ground-truth tracks; {} tracks, mean length {}",
                          e.label, fixed(s.alpha, 3), fixed(s.beta, 3), fixed(s.jsc, 3), fixed(s.jsc_theta, 3),
                          fixed(s.rmse_px, 3), fixed(e.fragmentation.mean, 2), e.fragmentation.covered_gt_tracks, n_gt,
                          e.lengths_summary.n_tracks, fixed(e.lengths_summary.mean, 1))
                  .c_str());
}

spotflow_status finish(Evaluator& ev, const spotflow_emitter* out) {
    const spotflow_host* host = ev.host;
    const std::string truth_what = "truth from '" + ev.truth_source + "'";
    if (ev.truth.rows.empty())
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, truth_what + ": no ground-truth point arrived");
    const GroundTruth truth = make_ground_truth(tracks_of(host, std::move(ev.truth), truth_what));
    if (truth.tracks.empty())
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, truth_what + ": no ground-truth track left to score");

    std::vector<std::vector<Track>> predicted;
    for (TrackerInput& t : ev.trackers) {
        if (t.rows.seen == 0)
            host->log(host, SPOTFLOW_LOG_WARNING, (t.what() + ": no table arrived; scored as no tracks").c_str());
        std::vector<Track> all = tracks_of(host, std::move(t.rows), t.what());
        const size_t before = all.size();
        predicted.push_back(keep_min_length(std::move(all), ev.params.min_track_length));
        if (predicted.back().size() < before)
            host->log(host, SPOTFLOW_LOG_INFO,
                      fmt::format("{}: {} tracks shorter than min_track_length {} dropped", t.what(),
                                  before - predicted.back().size(), ev.params.min_track_length)
                          .c_str());
    }

    std::vector<Evaluation> results(ev.trackers.size());
    tbb::task_arena arena(std::max(1, host->threads(host)));
    arena.execute([&] {
        tbb::parallel_for(size_t{0}, results.size(), [&](size_t i) {
            results[i] = evaluate(truth, std::move(predicted[i]), ev.params.gate_px);
        });
    });
    if (host->is_cancelled(host)) return SPOTFLOW_ERR_CANCELLED;

    const double pixel_nm = ev.params.pixel_size_nm > 0 ? ev.params.pixel_size_nm : ev.stream_pixel_size_nm;
    for (size_t i = 0; i < results.size(); ++i) {
        Evaluation& e = results[i];
        const TrackerInput& t = ev.trackers[i];
        e.label = t.label;
        e.source = t.source;
        // A named time wins; otherwise the host's measure of this branch's own plugins (linker, gap
        // filler), which excludes the detector the trackers share.
        if (const auto w = ev.params.wall_times_s.find(t.label); w != ev.params.wall_times_s.end())
            e.wall_time_s = w->second;
        else if (const double s = host->branch_seconds(host, kTracksPort, static_cast<int32_t>(i)); s >= 0)
            e.wall_time_s = s;
        log_result(host, e, static_cast<int64_t>(truth.tracks.size()));
        if (!t.files.track_statistics.empty()) write_track_statistics(t.files.track_statistics, truth, e);
        if (!t.files.fragmentation.empty()) write_fragmentation(t.files.fragmentation, e);
        if (!t.files.track_length_analysis.empty())
            draw_track_length_analysis(t.files.track_length_analysis, truth, e);
        if (!t.files.diagnostic_summary.empty())
            draw_diagnostic_summary(t.files.diagnostic_summary, truth, e, ev.params.gate_px, pixel_nm);
        host->progress(host, static_cast<int64_t>(i + 1), static_cast<int64_t>(results.size()));
    }
    if (!ev.comparison_csv.empty()) write_comparison(ev.comparison_csv, results);
    if (!ev.comparison_png.empty()) draw_comparison(ev.comparison_png, results, truth, ev.params.gate_px);

    spotflow_packet packet{};
    packet.kind = SPOTFLOW_DATA_TABLE;
    packet.info.total_frames = -1;
    packet.info.pixel_size_nm = pixel_nm;
    build_metrics_table(results, truth, ev.params.gate_px, &packet.schema, &packet.array);
    return out->emit(out, 0, &packet);
}

constexpr char kScoring[] = "scoring tracks";

const spotflow_node_vtable kVtable =
    spotflow::node_vtable<spotflow::FunctionNode<Evaluator, make_state, process, finish, kScoring>>();

const spotflow_port_desc kInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_MULTIPLE | SPOTFLOW_PORT_WHOLE_STREAM,
     "Predicted tracks (frame, x, y, track_id); one edge per tracker to compare"},
    {"truth", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "Ground-truth tracks: frame, x, y, track_id"}};

const spotflow_port_desc kOutputs[] = {{"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0,
                                        "One row per tracker: challenge measures, fragmentation, track lengths"}};

const spotflow_plugin_desc kDescriptor = {
    "eval.tracks", "1.0.0", "Scores tracks against ground truth: particle tracking challenge measures and track statistics",
    "evaluator",   kInputs, 2,
    1,             kOutputs, kParamsSchema,
    &kVtable,      nullptr};

} // namespace
} // namespace eval_tracks

SPOTFLOW_EXPORT_PLUGINS(eval_tracks::kDescriptor);

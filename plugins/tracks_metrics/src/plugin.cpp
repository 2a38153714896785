// tracks.metrics: one row of quality metrics per track (seed 004's
// quality_metrics for tracks), and with a ground truth, one label per track.
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "metrics.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "schema.json.hpp"

namespace tracks_metrics {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

class Node {
public:
    static constexpr const char* kContext = "computing track metrics";

    Node(const spotflow_host* host, const char* params_json) : host_(host) {
        spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            s_.max_lag = j.at("max_lag");
            s_.diffusion_lags = j.at("diffusion_lags");
            s_.density_radius_px = j.at("density_radius_px");
            s_.width = j.at("width");
            s_.height = j.at("height");
            s_.break_radius_px = j.at("break_radius_px");
            s_.break_frames = j.at("break_frames");
            gate_ = j.at("gate_px");
            min_fraction_ = j.at("min_fraction");
            rule_ = j.at("label_rule");
            return 0;
        });
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& p, const spotflow_emitter*) {
        if (in.port == 2) { // the movie: only its size
            if (p.kind != SPOTFLOW_DATA_TENSOR || p.tensor == nullptr || p.tensor->dl_tensor.ndim < 3)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "movie: a T x H x W tensor is expected");
            const auto& t = p.tensor->dl_tensor;
            movie_h_ = static_cast<double>(t.shape[t.ndim - 2]);
            movie_w_ = static_cast<double>(t.shape[t.ndim - 1]);
            return SPOTFLOW_OK;
        }
        const char* what = in.port == 0 ? "tracks" : "truth";
        if (p.kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(what) + ": a table is expected");
        try {
            (in.port == 0 ? tracks_ : truth_).append(p.schema, p.array);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, std::string(what) + ": " + e.what());
        }
        if (in.port == 1) have_truth_ = true;
        else info_ = p.info;
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        Settings s = s_;
        if (s.width <= 0) s.width = movie_w_;
        if (s.height <= 0) s.height = movie_h_;
        std::vector<TrackMetrics> m;
        std::vector<TrackLabel> labels;
        try {
            m = compute_metrics(tracks_, s);
            if (have_truth_) labels = label_tracks(tracks_, truth_, gate_, min_fraction_, rule_);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        }
        spotflow::TableBuilder b;
        const auto c_id = b.add_column("track_id", ColumnType::Int64);
        std::vector<size_t> cols;
        for (const auto& n : metric_names()) cols.push_back(b.add_column(n, ColumnType::Float64));
        for (const TrackMetrics& t : m) {
            b.append_int(c_id, t.track_id);
            for (size_t c = 0; c < cols.size(); ++c)
                std::isnan(t.values[c]) ? b.append_null(cols[c]) : b.append_double(cols[c], t.values[c]);
        }
        if (const auto st = spotflow::emit_table(out, 0, b, spotflow::table_info())) return st;
        if (!have_truth_) return SPOTFLOW_OK;
        int64_t good = 0;
        spotflow::TableBuilder l;
        const auto l_id = l.add_column("track_id", ColumnType::Int64);
        const auto l_label = l.add_column("label", ColumnType::Utf8);
        const auto l_frac = l.add_column("matched_fraction", ColumnType::Float64);
        const auto l_true = l.add_column("truth_track_id", ColumnType::Int64);
        for (const TrackLabel& t : labels) {
            l.append_int(l_id, t.track_id);
            l.append_string(l_label, t.label);
            l.append_double(l_frac, t.matched_fraction);
            t.truth_track_id >= 0 ? l.append_int(l_true, t.truth_track_id) : l.append_null(l_true);
            good += t.label == "good";
        }
        host_->log(host_, SPOTFLOW_LOG_INFO,
                   fmt::format("{} tracks, {} labelled good against the truth ({} rule)", labels.size(), good, rule_).c_str());
        return spotflow::emit_table(out, 1, l, spotflow::table_info());
    }

private:
    const spotflow_host* host_;
    Settings s_;
    double gate_ = 5, min_fraction_ = 0.5, movie_w_ = 0, movie_h_ = 0;
    std::string rule_;
    spotflow::tables::TableAccumulator tracks_, truth_;
    bool have_truth_ = false;
    spotflow_stream_info info_ = spotflow::table_info();
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Node>();

const spotflow_port_desc kInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "frame, x, y, track_id (+ photons, background, sigma, uncertainty, probability, interpolated, link_probability, link_cost)"},
    {"truth", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "Ground-truth tracks: labels the tracks good or bad"},
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL, "The movie, for its size (border_distance)"}};
const spotflow_port_desc kOutputs[] = {
    {"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "track_id and one column per metric (README)"},
    {"labels", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "With truth: track_id, label (good/bad), matched_fraction, truth_track_id"}};

const spotflow_plugin_desc kDesc = {
    "tracks.metrics", "1.0.0",
    "Per-track quality metrics (length, gaps, photons, uncertainty, SNR, steps, MSD fit, straightness, density, border distance) and, with a ground truth, good/bad labels",
    "extractor", kInputs, 3, 2, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace tracks_metrics

SPOTFLOW_EXPORT_PLUGINS(tracks_metrics::kDesc);

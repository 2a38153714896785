#include "reports.hpp"

#include <cmath>

#include <fmt/format.h>

#include "spotflow_csv/csv_writer.hpp"
#include "spotflow/table.hpp"

namespace eval_tracks {
namespace {

using spotflow_csv::CsvFile;

void track_rows(CsvFile& csv, const char* set, const std::vector<Track>& tracks, const std::vector<Track>& other,
                const std::vector<int64_t>& partner) {
    for (size_t i = 0; i < tracks.size(); ++i) {
        const Track& t = tracks[i];
        csv.field(std::string_view(set)).field(t.id).field(t.real_points).field(t.first_frame).field(t.last_frame());
        csv.field(std::string_view(length_class_name(length_class(t.real_points))));
        if (partner[i] >= 0) csv.field(other[static_cast<size_t>(partner[i])].id);
        else csv.null();
        csv.end_row();
    }
}

} // namespace

void write_track_statistics(const std::string& path, const GroundTruth& truth, const Evaluation& e) {
    CsvFile csv(path);
    for (const char* h : {"set", "track_id", "length", "first_frame", "last_frame", "length_class", "paired_track_id"})
        csv.field(std::string_view(h));
    csv.end_row();
    const std::vector<int64_t>& gt_to_pred = e.challenge.pairing;
    std::vector<int64_t> pred_to_gt(e.predicted.size(), -1);
    for (size_t g = 0; g < gt_to_pred.size(); ++g)
        if (gt_to_pred[g] >= 0) pred_to_gt[static_cast<size_t>(gt_to_pred[g])] = static_cast<int64_t>(g);
    track_rows(csv, "predicted", e.predicted, truth.tracks, pred_to_gt);
    track_rows(csv, "ground_truth", truth.tracks, e.predicted, gt_to_pred);
    csv.save();
}

void write_fragmentation(const std::string& path, const Evaluation& e) {
    CsvFile csv(path);
    for (const char* h : {"gt_track_id", "length", "matched_points", "n_predicted_tracks", "predicted_track_ids"})
        csv.field(std::string_view(h));
    csv.end_row();
    for (const GtCoverage& c : e.fragmentation.per_gt) {
        csv.field(c.gt_track_id).field(c.length).field(c.matched_points);
        csv.field(static_cast<int64_t>(c.predicted_track_ids.size()));
        csv.field(fmt::format("{}", fmt::join(c.predicted_track_ids, " ")));
        csv.end_row();
    }
    csv.save();
}

void write_comparison(const std::string& path, const std::vector<Evaluation>& all) {
    CsvFile csv(path);
    for (const char* h : {"tracker", "alpha", "beta", "jsc", "jsc_theta", "rmse_px", "fragmentation",
                          "mean_track_length", "n_tracks", "wall_time_s"})
        csv.field(std::string_view(h));
    csv.end_row();
    for (const Evaluation& e : all) {
        const ChallengeScore& s = e.challenge;
        csv.field(e.label).field(s.alpha).field(s.beta).field(s.jsc).field(s.jsc_theta).field(s.rmse_px);
        csv.field(e.fragmentation.mean).field(e.lengths_summary.mean).field(e.lengths_summary.n_tracks);
        csv.field(e.wall_time_s);
        csv.end_row();
    }
    csv.save();
}

void build_metrics_table(const std::vector<Evaluation>& all, const GroundTruth& truth, double gate,
                         ArrowSchema* schema, ArrowArray* array) {
    using spotflow::ColumnType;
    spotflow::TableBuilder b;
    const size_t tracker = b.add_column("tracker", ColumnType::Utf8);
    const size_t source = b.add_column("source", ColumnType::Utf8);
    struct DoubleCol {
        size_t col;
        double (*get)(const Evaluation&, const GroundTruth&);
    };
    struct IntCol {
        size_t col;
        int64_t (*get)(const Evaluation&, const GroundTruth&);
    };
    const auto d = [&](const char* name, double (*get)(const Evaluation&, const GroundTruth&)) {
        return DoubleCol{b.add_column(name, ColumnType::Float64), get};
    };
    const auto i = [&](const char* name, int64_t (*get)(const Evaluation&, const GroundTruth&)) {
        return IntCol{b.add_column(name, ColumnType::Int64), get};
    };
    using E = const Evaluation&;
    using G = const GroundTruth&;
    const std::vector<DoubleCol> challenge = {
        d("alpha", [](E e, G) { return e.challenge.alpha; }),
        d("beta", [](E e, G) { return e.challenge.beta; }),
        d("jsc", [](E e, G) { return e.challenge.jsc; }),
        d("jsc_theta", [](E e, G) { return e.challenge.jsc_theta; }),
        d("rmse_px", [](E e, G) { return e.challenge.rmse_px; }),
    };
    const std::vector<IntCol> counts = {
        i("tp", [](E e, G) { return e.challenge.tp; }),
        i("fn", [](E e, G) { return e.challenge.fn; }),
        i("fp", [](E e, G) { return e.challenge.fp; }),
        i("paired_tracks", [](E e, G) { return e.challenge.paired_tracks; }),
        i("missed_tracks", [](E e, G) { return e.challenge.missed_tracks; }),
        i("spurious_tracks", [](E e, G) { return e.challenge.spurious_tracks; }),
    };
    const std::vector<DoubleCol> distances = {
        d("paired_distance", [](E e, G) { return e.challenge.paired_distance; }),
        d("gt_dummy_distance", [](E e, G) { return e.challenge.gt_dummy_distance; }),
        d("spurious_dummy_distance", [](E e, G) { return e.challenge.spurious_dummy_distance; }),
        d("fragmentation", [](E e, G) { return e.fragmentation.mean; }),
    };
    const std::vector<IntCol> tracks = {
        i("covered_gt_tracks", [](E e, G) { return e.fragmentation.covered_gt_tracks; }),
        i("n_tracks", [](E e, G) { return e.lengths_summary.n_tracks; }),
        i("n_gt_tracks", [](E, G g) { return g.lengths_summary.n_tracks; }),
    };
    const std::vector<DoubleCol> lengths = {
        d("mean_track_length", [](E e, G) { return e.lengths_summary.mean; }),
        d("median_track_length", [](E e, G) { return e.lengths_summary.median; }),
        d("short_fraction", [](E e, G) { return e.lengths_summary.short_fraction; }),
        d("medium_fraction", [](E e, G) { return e.lengths_summary.medium_fraction; }),
        d("long_fraction", [](E e, G) { return e.lengths_summary.long_fraction; }),
        d("gt_mean_track_length", [](E, G g) { return g.lengths_summary.mean; }),
        d("gt_median_track_length", [](E, G g) { return g.lengths_summary.median; }),
        d("gt_short_fraction", [](E, G g) { return g.lengths_summary.short_fraction; }),
        d("gt_medium_fraction", [](E, G g) { return g.lengths_summary.medium_fraction; }),
        d("gt_long_fraction", [](E, G g) { return g.lengths_summary.long_fraction; }),
    };
    const size_t gate_col = b.add_column("gate_px", ColumnType::Float64);
    const size_t wall = b.add_column("wall_time_s", ColumnType::Float64);

    for (const Evaluation& e : all) {
        b.append_string(tracker, e.label);
        b.append_string(source, e.source);
        for (const auto* group : {&challenge, &distances, &lengths})
            for (const DoubleCol& c : *group) b.append_double(c.col, c.get(e, truth));
        for (const auto* group : {&counts, &tracks})
            for (const IntCol& c : *group) b.append_int(c.col, c.get(e, truth));
        b.append_double(gate_col, gate);
        if (std::isnan(e.wall_time_s)) b.append_null(wall); // not given: missing, not undefined
        else b.append_double(wall, e.wall_time_s);
    }
    b.finish(schema, array);
}

} // namespace eval_tracks

#include "figures.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <spotflow_plot/plot.hpp>

#include "errors.hpp"

namespace eval_tracks {
namespace {

namespace plot = spotflow::plot;

using Range = std::optional<std::pair<double, double>>;

plot::Axes make_axes(std::string title, std::string xlabel, std::string ylabel, bool legend, Range ylim = {}) {
    plot::Axes a;
    a.title = std::move(title);
    a.xlabel = std::move(xlabel);
    a.ylabel = std::move(ylabel);
    a.legend = legend;
    a.ylim = ylim;
    return a;
}

plot::Series values(std::string label, std::vector<double> y) {
    plot::Series s;
    s.label = std::move(label);
    s.y = std::move(y);
    return s;
}

std::vector<double> as_doubles(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

// Histogram of integer values, bins centred on the integers (one per integer
// up to 60 of them, wider beyond), with a few empty bins on the right so the
// largest values do not sit on the frame.
void integer_histogram(plot::Figure& fig, int panel, const plot::Axes& axes, const std::vector<int64_t>& values,
                       int64_t lowest) {
    const int64_t top = values.empty() ? lowest + 1 : std::max(lowest + 1, *std::max_element(values.begin(), values.end()));
    const int64_t width = (top - lowest + 60) / 60;
    const int64_t filled = (top - lowest) / width + 1;
    const int bins = static_cast<int>(filled + (filled + 7) / 8);
    const double lo = static_cast<double>(lowest) - 0.5;
    fig.histogram(panel, axes, as_doubles(values), bins,
                  std::make_pair(lo, lo + static_cast<double>(static_cast<int64_t>(bins) * width)));
}

// The share of short, medium and long tracks, predicted against ground truth.
void length_classes(plot::Figure& fig, int panel, const GroundTruth& truth, const Evaluation& e) {
    const auto percent = [](const LengthSummary& s) {
        return std::vector<double>{100 * s.short_fraction, 100 * s.medium_fraction, 100 * s.long_fraction};
    };
    fig.bars(panel, make_axes("Track length classes", "length (points)", "tracks (%)", true), {"<= 3", "4-10", "> 10"},
             {values("predicted", percent(e.lengths_summary)), values("ground truth", percent(truth.lengths_summary))});
}

std::string fixed(double v, int digits) { return std::isnan(v) ? "n/a" : fmt::format("{:.{}f}", v, digits); }

void length_histogram(plot::Figure& fig, int panel, const std::string& what, const std::vector<int64_t>& lengths,
                      const LengthSummary& s) {
    const std::string title =
        fmt::format("{}: {} tracks, mean {}, median {}", what, s.n_tracks, fixed(s.mean, 1), fixed(s.median, 1));
    integer_histogram(fig, panel, make_axes(title, "length (points)", "tracks", true), lengths, 1);
    if (s.n_tracks > 0) fig.vline(panel, s.mean, fmt::format("mean {:.1f}", s.mean), 3);
}

// The share of tracks at least L points long, for every L.
plot::Series survival(const std::string& label, const std::vector<int64_t>& lengths) {
    plot::Series out = values(label, {});
    if (lengths.empty()) return out;
    std::vector<int64_t> sorted = lengths;
    std::sort(sorted.begin(), sorted.end());
    const double n = static_cast<double>(sorted.size());
    for (int64_t l = 1; l <= sorted.back(); ++l) {
        const auto longer = sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), l);
        out.x.push_back(static_cast<double>(l));
        out.y.push_back(100.0 * static_cast<double>(longer) / n);
    }
    return out;
}

// Eight lines of at most ~36 characters: what a text panel holds.
std::vector<std::string> summary_lines(const GroundTruth& truth, const Evaluation& e, double gate,
                                       double pixel_size_nm) {
    const ChallengeScore& s = e.challenge;
    std::string rmse = "RMSE " + fixed(s.rmse_px, 3) + " px";
    if (pixel_size_nm > 0 && !std::isnan(s.rmse_px)) rmse += fmt::format(" ({:.1f} nm)", s.rmse_px * pixel_size_nm);
    const double f = e.fragmentation.mean;
    return {
        fmt::format("α {}    β {}", fixed(s.alpha, 3), fixed(s.beta, 3)),
        fmt::format("JSC {}    JSCθ {}", fixed(s.jsc, 3), fixed(s.jsc_theta, 3)),
        fmt::format("points: TP {}, FN {}, FP {}", s.tp, s.fn, s.fp),
        fmt::format("tracks: {} paired, {} missed, {} spurious", s.paired_tracks, s.missed_tracks, s.spurious_tracks),
        fmt::format("{}, gate {} px", rmse, gate),
        fmt::format("fragmentation {} over {}/{} GT", std::isnan(f) ? "n/a" : fixed(f, 2) + "x",
                    e.fragmentation.covered_gt_tracks, truth.lengths_summary.n_tracks),
        fmt::format("predicted: {} tracks, mean {} pts", e.lengths_summary.n_tracks, fixed(e.lengths_summary.mean, 1)),
        fmt::format("truth: {} tracks, mean {} pts", truth.lengths_summary.n_tracks, fixed(truth.lengths_summary.mean, 1)),
    };
}

// The seed guide's reading of the fragmentation (its tuning advice starts above 6x).
std::string diagnosis(const Evaluation& e) {
    const double f = e.fragmentation.mean;
    if (std::isnan(f)) return "no ground-truth track covered";
    if (f > 6) return fmt::format("HIGH FRAGMENTATION: ~{:.0f} pieces per track", f);
    if (f > 1.5) return fmt::format("tracks split into ~{:.1f} pieces", f);
    return "tracks mostly followed whole";
}

void save(const plot::Figure& fig, const std::string& path) {
    try {
        fig.save_png(path);
    } catch (const std::runtime_error& e) {
        throw PluginError(SPOTFLOW_ERR_IO, e.what());
    }
}

} // namespace

void draw_track_length_analysis(const std::string& path, const GroundTruth& truth, const Evaluation& e) {
    plot::Figure fig(1200, 800, 2, 2, "Track length analysis: " + e.label);
    length_histogram(fig, 0, "Predicted", e.lengths, e.lengths_summary);
    length_histogram(fig, 1, "Ground truth", truth.lengths, truth.lengths_summary);
    length_classes(fig, 2, truth, e);
    fig.lines(3, make_axes("Tracks at least this long", "length (points)", "tracks (%)", true),
              {survival("predicted", e.lengths), survival("ground truth", truth.lengths)});
    save(fig, path);
}

void draw_diagnostic_summary(const std::string& path, const GroundTruth& truth, const Evaluation& e, double gate,
                             double pixel_size_nm) {
    plot::Figure fig(1200, 800, 2, 2, "Diagnostic summary: " + e.label);
    fig.text(0, summary_lines(truth, e, gate, pixel_size_nm), diagnosis(e));

    const ChallengeScore& s = e.challenge;
    fig.bars(1, make_axes("Challenge measures", "", "score", false, std::make_pair(0.0, 1.0)),
             {"α", "β", "JSC", "JSCθ"},
             {values(e.label, {s.alpha, s.beta, s.jsc, s.jsc_theta})});

    length_classes(fig, 2, truth, e);

    std::vector<int64_t> pieces;
    for (const GtCoverage& c : e.fragmentation.per_gt) pieces.push_back(static_cast<int64_t>(c.predicted_track_ids.size()));
    integer_histogram(fig, 3,
                      make_axes("Fragmentation", "predicted tracks per ground-truth track", "ground-truth tracks",
                                true),
                      pieces, 0);
    if (!std::isnan(e.fragmentation.mean))
        fig.vline(3, e.fragmentation.mean, fmt::format("mean {:.2f}x", e.fragmentation.mean), 3);
    save(fig, path);
}

// Trackers along x in every panel, so that any number of trackers with long
// names stays readable; the legends name the measures.
void draw_comparison(const std::string& path, const std::vector<Evaluation>& all, const GroundTruth& truth,
                     double gate) {
    std::vector<std::string> trackers;
    const auto series = [&](const std::string& label, double (*get)(const Evaluation&)) {
        plot::Series s = values(label, {});
        for (const Evaluation& e : all) s.y.push_back(get(e));
        return s;
    };
    for (const Evaluation& e : all) trackers.push_back(e.label);
    plot::Figure fig(1800, 900, 2, 3, fmt::format("Tracker comparison (gate {} px)", gate));
    fig.bars(0, make_axes("Track distance measures", "", "score", true), trackers,
             {series("α", [](const Evaluation& e) { return e.challenge.alpha; }),
              series("β", [](const Evaluation& e) { return e.challenge.beta; })});
    fig.bars(1, make_axes("Jaccard indices", "", "score", true), trackers,
             {series("JSC", [](const Evaluation& e) { return e.challenge.jsc; }),
              series("JSCθ", [](const Evaluation& e) { return e.challenge.jsc_theta; })});
    fig.bars(2, make_axes("RMSE of matched points", "", "RMSE (px)", false), trackers,
             {series("RMSE", [](const Evaluation& e) { return e.challenge.rmse_px; })});
    fig.bars(3, make_axes("Fragmentation", "", "pieces per GT track", false), trackers,
             {series("fragmentation", [](const Evaluation& e) { return e.fragmentation.mean; })});
    // Mean length beside the ground truth's: short tracks are fragments,
    // long ones merges or filled gaps.
    plot::Series gt = values("ground truth", {});
    gt.y.assign(all.size(), truth.lengths_summary.mean);
    fig.bars(4, make_axes("Mean track length", "", "points per track", true), trackers,
             {series("predicted", [](const Evaluation& e) { return e.lengths_summary.mean; }), gt});
    double slowest = 0;
    for (const Evaluation& e : all)
        if (std::isfinite(e.wall_time_s)) slowest = std::max(slowest, e.wall_time_s);
    if (slowest > 0) {
        // Milliseconds for fast trackers, so the axis needs no exponent.
        const bool ms = slowest < 1;
        plot::Series t = values("wall time", {});
        for (const Evaluation& e : all) t.y.push_back(std::isfinite(e.wall_time_s) ? e.wall_time_s * (ms ? 1000 : 1) : 0.0);
        fig.bars(5, make_axes("Wall time per tracker", "", ms ? "milliseconds" : "seconds", false), trackers, {t});
    } else {
        fig.text(5, {"not measured: give wall_times_s,", "or run in a recipe (the host times each branch)"},
                 "Wall time");
    }
    save(fig, path);
}

} // namespace eval_tracks

// eval.detections: detections against ground truth (seed 000, Step 3), with
// the Cramér–Rao bound of every matched emitter.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "matching.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_plot/plot.hpp"
#include "spotflow_psf/crlb.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "schema.json.hpp"

namespace eval_detections {
namespace {

using spotflow::PluginError;
using spotflow::tables::TableAccumulator;
using nlohmann::json;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Evaluator {
    const spotflow_host* host;
    json p;
    TableAccumulator det, truth;
    std::vector<float> example;
    int width = 0, height = 0;
    double pixel_size_nm = 0;
};

Evaluator make_evaluator(const spotflow_host* host, const char* params_json) {
    json p = json::parse(params_json);
    if (p.at("neighbour_min_px").get<double>() > p.at("neighbour_max_px").get<double>())
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                          fmt::format("param 'neighbour_min_px' ({}) is above neighbour_max_px ({})",
                                      p.at("neighbour_min_px").get<double>(), p.at("neighbour_max_px").get<double>()));
    return Evaluator{host, std::move(p), {}, {}, {}, 0, 0, 0};
}

spotflow_status process(Evaluator& e, const spotflow_input* in, const spotflow_packet* pk, const spotflow_emitter*) {
    if (in->port == 2) { // the movie: keep the example frame only
        if (pk->info.pixel_size_nm > 0) e.pixel_size_nm = pk->info.pixel_size_nm;
        const DLTensor& t = pk->tensor->dl_tensor;
        const int64_t want = e.p.at("example_frame");
        const int64_t k = want - pk->info.frame_offset;
        if (t.ndim == 3 && k >= 0 && k < t.shape[0]) {
            e.height = static_cast<int>(t.shape[1]), e.width = static_cast<int>(t.shape[2]);
            const int64_t plane = t.shape[1] * t.shape[2];
            e.example.resize(static_cast<size_t>(plane));
            for (int64_t i = 0; i < plane; ++i) e.example[static_cast<size_t>(i)] = static_cast<float>(spotflow::element_as_double(t, k * plane + i));
        }
        return SPOTFLOW_OK;
    }
    if (pk->info.pixel_size_nm > 0) e.pixel_size_nm = pk->info.pixel_size_nm;
    try {
        (in->port == 0 ? e.det : e.truth).append(pk->schema, pk->array);
    } catch (const std::invalid_argument& x) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(in->port == 0 ? "detections: " : "truth: ") + x.what());
    }
    return SPOTFLOW_OK;
}

struct Table {
    std::vector<Point> pts;
    std::vector<std::string> sample;
};

Table points(const TableAccumulator& t, const char* what) {
    Table out;
    if (t.rows() == 0) return out;
    try {
        const auto f = t.ints("frame");
        const auto x = t.doubles("x"), y = t.doubles("y");
        out.sample = t.has("sample") ? t.strings("sample") : std::vector<std::string>(f.size(), "0");
        for (size_t i = 0; i < f.size(); ++i) out.pts.push_back({f[i], x[i], y[i]});
    } catch (const std::invalid_argument& x) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(what) + ": " + x.what());
    }
    return out;
}

// The true emitters of one neighbourhood class and their matched detections.
struct ClassStats {
    int64_t truth = 0, matched = 0;
    double sum_sq_error = 0; // dx^2 + dy^2 over the matched
    double sum_crlb_sq = 0;  // per-axis CRLB^2 over the matched
    void add(const ClassStats& o) {
        truth += o.truth, matched += o.matched, sum_sq_error += o.sum_sq_error, sum_crlb_sq += o.sum_crlb_sq;
    }
    double recall() const { return truth > 0 ? static_cast<double>(matched) / static_cast<double>(truth) : std::nan(""); }
    double rmse_lateral() const { return matched > 0 ? std::sqrt(sum_sq_error / static_cast<double>(matched)) : std::nan(""); }
    double crlb_rms() const { return matched > 0 ? std::sqrt(sum_crlb_sq / static_cast<double>(matched)) : std::nan(""); }
    // As rmse_over_crlb: per-axis RMSE over sqrt(mean CRLB^2).
    double ratio() const { return matched > 0 && sum_crlb_sq > 0 ? rmse_lateral() / std::sqrt(2.0) / crlb_rms() : std::nan(""); }
};

// Scores one sample's subset (indices into the tables).
struct Scored {
    Metrics m;
    double crlb_rms_px = 0; // per axis, over matched emitters
    std::vector<double> errors_px; // lateral error of each match
    std::array<ClassStats, kNeighbourhoods> by_class{}; // indexed by Neighbourhood
};

struct NeighbourGates {
    double min_px, max_px;
};

Scored score(const Table& truth, const Table& det, const std::vector<size_t>& ti, const std::vector<size_t>& di,
             const std::vector<double>& crlb, double tol, const NeighbourGates& gates) {
    std::vector<Point> t, d;
    for (const size_t i : ti) t.push_back(truth.pts[i]);
    for (const size_t j : di) d.push_back(det.pts[j]);
    const Match mt = match(t, d, tol);
    Scored s{metrics(t, d, mt), 0, {}, {}};
    // Each true emitter's class, from the other true emitters of its frame
    // (of this sample: samples never see each other).
    const std::vector<double> nn = nearest_neighbour_px(t, gates.max_px);
    std::vector<int> cls(t.size());
    for (size_t k = 0; k < t.size(); ++k) {
        cls[k] = static_cast<int>(neighbourhood(nn[k], gates.min_px, gates.max_px));
        ++s.by_class[static_cast<size_t>(cls[k])].truth;
    }
    double c2 = 0;
    for (size_t j = 0; j < d.size(); ++j) {
        const int64_t k = mt.truth_of[j];
        if (k < 0) continue;
        const double ck = crlb[ti[static_cast<size_t>(k)]];
        c2 += ck * ck;
        const double dx = d[j].x - t[static_cast<size_t>(k)].x, dy = d[j].y - t[static_cast<size_t>(k)].y;
        s.errors_px.push_back(std::hypot(dx, dy));
        ClassStats& c = s.by_class[static_cast<size_t>(cls[static_cast<size_t>(k)])];
        ++c.matched, c.sum_sq_error += dx * dx + dy * dy, c.sum_crlb_sq += ck * ck;
    }
    if (s.m.tp > 0) s.crlb_rms_px = std::sqrt(c2 / static_cast<double>(s.m.tp));
    return s;
}

std::string output(const spotflow_host* h, const std::string& name) { return spotflow::output_path(h, name); }

spotflow_status finish(Evaluator& e, const spotflow_emitter* out) {
    const double tol = e.p.at("tolerance_px");
    const NeighbourGates gates{e.p.at("neighbour_min_px"), e.p.at("neighbour_max_px")};
    const double px_nm = e.p.at("pixel_size_nm").get<double>() > 0 ? e.p.at("pixel_size_nm").get<double>()
                         : e.pixel_size_nm > 0 ? e.pixel_size_nm : 108.0;
    const Table truth = points(e.truth, "truth"), det = points(e.det, "detections");

    // The CRLB of every true emitter (detected photons = photons x qe).
    const double qe = e.p.at("qe");
    const auto col_or = [&](const char* name, double fallback) {
        return e.truth.has(name) ? e.truth.doubles(name) : std::vector<double>(truth.pts.size(), fallback);
    };
    const auto n = col_or("photons", e.p.at("photons")), b = col_or("background", e.p.at("background_photons")),
               s = col_or("sigma", e.p.at("psf_sigma_px"));
    std::vector<double> crlb(truth.pts.size());
    for (size_t i = 0; i < crlb.size(); ++i)
        crlb[i] = n[i] > 0 ? spotflow::psf::crlb_mortensen_px(n[i] * qe, std::max(0.0, b[i] * qe), s[i], e.p.at("excess_noise"))
                           : std::nan("");

    std::map<std::string, std::pair<std::vector<size_t>, std::vector<size_t>>> samples;
    for (size_t i = 0; i < truth.pts.size(); ++i) samples[truth.sample[i]].first.push_back(i);
    for (size_t j = 0; j < det.pts.size(); ++j) samples[det.sample[j]].second.push_back(j);
    std::vector<size_t> all_t(truth.pts.size()), all_d(det.pts.size());
    for (size_t i = 0; i < all_t.size(); ++i) all_t[i] = i;
    for (size_t j = 0; j < all_d.size(); ++j) all_d[j] = j;

    std::vector<std::pair<std::string, Scored>> rows;
    // Samples are scored apart: frames of different samples never match.
    Scored overall{};
    std::vector<double> all_errors;
    double c2 = 0;
    for (const auto& [name, ids] : samples) {
        rows.emplace_back(name, score(truth, det, ids.first, ids.second, crlb, tol, gates));
        const Scored& r = rows.back().second;
        overall.m.tp += r.m.tp, overall.m.fp += r.m.fp, overall.m.fn += r.m.fn;
        for (int c = 0; c < kNeighbourhoods; ++c) overall.by_class[static_cast<size_t>(c)].add(r.by_class[static_cast<size_t>(c)]);
        all_errors.insert(all_errors.end(), r.errors_px.begin(), r.errors_px.end());
        c2 += r.crlb_rms_px * r.crlb_rms_px * static_cast<double>(r.m.tp);
    }
    {
        auto& m = overall.m;
        m.precision = m.tp + m.fp ? static_cast<double>(m.tp) / static_cast<double>(m.tp + m.fp) : 0;
        m.recall = m.tp + m.fn ? static_cast<double>(m.tp) / static_cast<double>(m.tp + m.fn) : 0;
        m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
        m.jaccard = m.tp + m.fp + m.fn ? static_cast<double>(m.tp) / static_cast<double>(m.tp + m.fp + m.fn) : 0;
        double se = 0, sx = 0, sy = 0;
        for (const auto& [name, r] : rows) {
            se += r.m.rmse_lateral * r.m.rmse_lateral * static_cast<double>(r.m.tp);
            sx += r.m.rmse_x * r.m.rmse_x * static_cast<double>(r.m.tp);
            sy += r.m.rmse_y * r.m.rmse_y * static_cast<double>(r.m.tp);
            m.bias_x += r.m.bias_x * static_cast<double>(r.m.tp), m.bias_y += r.m.bias_y * static_cast<double>(r.m.tp);
        }
        if (m.tp > 0) {
            const double k = static_cast<double>(m.tp);
            m.rmse_lateral = std::sqrt(se / k), m.rmse_x = std::sqrt(sx / k), m.rmse_y = std::sqrt(sy / k);
            m.bias_x /= k, m.bias_y /= k;
            overall.crlb_rms_px = std::sqrt(c2 / k);
        }
    }
    rows.emplace_back("all", overall);

    // SMLM challenge 2016 efficiency (lateral), Jaccard in percent, RMSE in nm.
    const auto efficiency = [&](const Metrics& m) {
        return 100 - std::sqrt(std::pow(100 - 100 * m.jaccard, 2) + std::pow(m.rmse_lateral * px_nm, 2));
    };
    const auto ratio = [](const Scored& r) {
        // Per-axis RMSE over the per-axis bound (the lateral ratio is the same).
        return r.crlb_rms_px > 0 ? r.m.rmse_lateral / std::sqrt(2.0) / r.crlb_rms_px : std::nan("");
    };

    spotflow::TableBuilder tb;
    using spotflow::ColumnType;
    const auto c_s = tb.add_column("sample", ColumnType::Utf8), c_tp = tb.add_column("true_positives", ColumnType::Int64),
               c_fp = tb.add_column("false_positives", ColumnType::Int64), c_fn = tb.add_column("false_negatives", ColumnType::Int64),
               c_p = tb.add_column("precision", ColumnType::Float64), c_r = tb.add_column("recall", ColumnType::Float64),
               c_f = tb.add_column("f1", ColumnType::Float64), c_j = tb.add_column("jaccard", ColumnType::Float64),
               c_rl = tb.add_column("rmse_lateral_px", ColumnType::Float64), c_rx = tb.add_column("rmse_x_px", ColumnType::Float64),
               c_ry = tb.add_column("rmse_y_px", ColumnType::Float64), c_bx = tb.add_column("bias_x_px", ColumnType::Float64),
               c_by = tb.add_column("bias_y_px", ColumnType::Float64), c_cr = tb.add_column("crlb_rms_px", ColumnType::Float64),
               c_ratio = tb.add_column("rmse_over_crlb", ColumnType::Float64), c_e = tb.add_column("efficiency", ColumnType::Float64);
    // Per neighbourhood class: <class>_truth, _recall, _rmse_lateral_px, _crlb_rms_px, _rmse_over_crlb.
    std::array<std::array<size_t, 5>, kNeighbourhoods> c_cls{};
    for (int c = 0; c < kNeighbourhoods; ++c) {
        const std::string k = name(static_cast<Neighbourhood>(c));
        auto& col = c_cls[static_cast<size_t>(c)];
        col[0] = tb.add_column(k + "_truth", ColumnType::Int64);
        col[1] = tb.add_column(k + "_recall", ColumnType::Float64);
        col[2] = tb.add_column(k + "_rmse_lateral_px", ColumnType::Float64);
        col[3] = tb.add_column(k + "_crlb_rms_px", ColumnType::Float64);
        col[4] = tb.add_column(k + "_rmse_over_crlb", ColumnType::Float64);
    }
    for (const auto& [name, r] : rows) {
        const Metrics& m = r.m;
        tb.append_string(c_s, name);
        tb.append_int(c_tp, m.tp), tb.append_int(c_fp, m.fp), tb.append_int(c_fn, m.fn);
        tb.append_double(c_p, m.precision), tb.append_double(c_r, m.recall), tb.append_double(c_f, m.f1);
        tb.append_double(c_j, m.jaccard), tb.append_double(c_rl, m.rmse_lateral), tb.append_double(c_rx, m.rmse_x);
        tb.append_double(c_ry, m.rmse_y), tb.append_double(c_bx, m.bias_x), tb.append_double(c_by, m.bias_y);
        tb.append_double(c_cr, r.crlb_rms_px), tb.append_double(c_ratio, ratio(r)), tb.append_double(c_e, efficiency(m));
        for (int c = 0; c < kNeighbourhoods; ++c) {
            const ClassStats& cs = r.by_class[static_cast<size_t>(c)];
            const auto& col = c_cls[static_cast<size_t>(c)];
            tb.append_int(col[0], cs.truth), tb.append_double(col[1], cs.recall());
            tb.append_double(col[2], cs.rmse_lateral()), tb.append_double(col[3], cs.crlb_rms());
            tb.append_double(col[4], cs.ratio());
        }
    }
    // The metrics table, emitted last; detection_metrics.csv is its text
    // (libs/csv: NaN, a class without a matched emitter, as an empty field).
    struct Batch {
        spotflow_packet pk{};
        ~Batch() { spotflow::release_table(&pk.schema, &pk.array); }
    } table;
    table.pk.kind = SPOTFLOW_DATA_TABLE;
    tb.finish(&table.pk.schema, &table.pk.array);
    const Metrics& m = overall.m;
    const std::string summary_file = e.p.at("summary_file"), metrics_file = e.p.at("metrics_file");
    if (!summary_file.empty()) {
        // NaN (no matched emitter in a class) is written as null.
        const auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
        json classes = json::object();
        for (int c = 0; c < kNeighbourhoods; ++c) {
            const ClassStats& cs = overall.by_class[static_cast<size_t>(c)];
            classes[name(static_cast<Neighbourhood>(c))] = {
                {"truth", cs.truth}, {"matched", cs.matched}, {"recall", num(cs.recall())},
                {"rmse_lateral_px", num(cs.rmse_lateral())}, {"crlb_rms_px", num(cs.crlb_rms())},
                {"rmse_over_crlb", num(cs.ratio())}};
        }
        json j = {{"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1}, {"jaccard", m.jaccard},
                  {"true_positives", m.tp}, {"false_positives", m.fp}, {"false_negatives", m.fn},
                  {"rmse_lateral_px", m.rmse_lateral}, {"rmse_lateral_nm", m.rmse_lateral * px_nm},
                  {"bias_px", {m.bias_x, m.bias_y}}, {"crlb_rms_px", overall.crlb_rms_px},
                  {"crlb_rms_nm", overall.crlb_rms_px * px_nm}, {"rmse_over_crlb", ratio(overall)},
                  {"efficiency", efficiency(m)}, {"samples", static_cast<int64_t>(rows.size()) - 1},
                  {"neighbourhoods", classes},
                  {"params", e.p}, {"pixel_size_nm", px_nm},
                  {"definitions",
                   {{"matching", "per frame, optimal one-to-one (LAP) matching, pairs strictly closer than tolerance_px"},
                    {"jaccard", "TP / (TP + FP + FN)"},
                    {"rmse_lateral", "sqrt(mean(dx^2 + dy^2)) over matched pairs"},
                    {"crlb", "Mortensen et al. 2010 MLE bound per axis, detected photons = photons x qe, times excess noise"},
                    {"rmse_over_crlb", "per-axis RMSE / sqrt(mean CRLB^2) over matched emitters"},
                    {"neighbourhoods", "true emitters by the distance d to the nearest other true emitter of their frame: "
                                       "isolated d > neighbour_max_px, neighbouring neighbour_min_px <= d <= neighbour_max_px, "
                                       "close d < neighbour_min_px; recall, RMSE and RMSE/CRLB over each class's matched emitters"},
                    {"efficiency", "100 - sqrt((100 - 100 Jaccard)^2 + (1/nm x RMSE_lateral_nm)^2), SMLM challenge 2016"}}}};
        spotflow_csv::write_file(output(e.host, summary_file), j.dump(2) + "\n");
    }
    if (!metrics_file.empty()) {
        const spotflow::TableView view(table.pk.schema, table.pk.array);
        std::vector<int64_t> all(static_cast<size_t>(view.columns()));
        std::iota(all.begin(), all.end(), int64_t{0});
        std::string csv;
        spotflow_csv::append_header(csv, view, all);
        spotflow_csv::append_rows(csv, view, all);
        spotflow_csv::write_file(output(e.host, metrics_file), csv);
    }

    const std::string plots_file = e.p.at("plots_file");
    if (!plots_file.empty()) {
        spotflow::plot::Figure fig(1500, 480, 1, 3, fmt::format("Detection: F1 {:.4f}, RMSE {:.1f} nm ({:.2f} x CRLB)", m.f1,
                                                                m.rmse_lateral * px_nm, ratio(overall)));
        const std::string score_col = e.p.at("score_column");
        if (e.det.has(score_col) && !det.pts.empty()) {
            const auto sc = e.det.doubles(score_col);
            std::vector<double> q = sc;
            std::sort(q.begin(), q.end());
            spotflow::plot::Series P{"precision", {}, {}}, R{"recall", {}, {}}, F{"F1", {}, {}};
            for (int k = 0; k < 40; ++k) {
                const double thr = q[static_cast<size_t>(k * (q.size() - 1) / 40)];
                std::vector<size_t> kept;
                for (size_t j = 0; j < sc.size(); ++j)
                    if (sc[j] >= thr) kept.push_back(j);
                Metrics mm{};
                for (const auto& [name, ids] : samples) {
                    std::vector<size_t> dk;
                    for (const size_t j : ids.second)
                        if (sc[j] >= thr) dk.push_back(j);
                    const Scored r = score(truth, det, ids.first, dk, crlb, tol, gates);
                    mm.tp += r.m.tp, mm.fp += r.m.fp, mm.fn += r.m.fn;
                }
                const double p = mm.tp + mm.fp ? static_cast<double>(mm.tp) / static_cast<double>(mm.tp + mm.fp) : 0;
                const double r = mm.tp + mm.fn ? static_cast<double>(mm.tp) / static_cast<double>(mm.tp + mm.fn) : 0;
                P.x.push_back(thr), P.y.push_back(p), R.x.push_back(thr), R.y.push_back(r);
                F.x.push_back(thr), F.y.push_back(p + r > 0 ? 2 * p * r / (p + r) : 0);
            }
            fig.lines(0, {"Precision and recall against threshold", score_col + " threshold", "score", std::nullopt,
                          std::make_pair(0.0, 1.4)},
                      {P, R, F});
        } else {
            fig.text(0, {"no '" + score_col + "' column:", "no threshold sweep"}, "Precision and recall");
        }
        std::vector<std::string> names;
        spotflow::plot::Series f1{"F1", {}, {}};
        for (const auto& [name, r] : rows)
            if (name != "all") names.push_back(name), f1.y.push_back(r.m.f1);
        fig.bars(1, {"F1 per sample", "sample", "F1", std::nullopt, std::make_pair(0.0, 1.05), false}, names, {f1});
        std::vector<double> nm;
        for (const double x : all_errors) nm.push_back(x * px_nm);
        fig.histogram(2, {"Localisation errors of matched pairs", "lateral error (nm)", "count", std::nullopt, std::nullopt, true}, nm, 40);
        if (overall.crlb_rms_px > 0) fig.vline(2, overall.crlb_rms_px * std::sqrt(2.0) * px_nm, "lateral CRLB");
        fig.save_png(output(e.host, plots_file));
    }

    const std::string examples_file = e.p.at("examples_file");
    if (!examples_file.empty() && !e.example.empty()) {
        const int64_t f = e.p.at("example_frame");
        std::vector<Point> t, d;
        for (const auto& pt : truth.pts)
            if (pt.frame == f) t.push_back(pt);
        for (const auto& pt : det.pts)
            if (pt.frame == f) d.push_back(pt);
        const Match mt = match(t, d, tol);
        std::vector<bool> found(t.size(), false);
        spotflow::plot::Overlay ov(e.example.data(), e.width, e.height, std::max(1, 768 / std::max(e.width, 1)));
        for (size_t j = 0; j < d.size(); ++j) {
            if (mt.truth_of[j] >= 0) found[static_cast<size_t>(mt.truth_of[j])] = true;
            ov.cross(d[j].x, d[j].y, 2.5, mt.truth_of[j] >= 0 ? 2 : 3); // green: matched, vermilion: false positive
        }
        for (size_t i = 0; i < t.size(); ++i) ov.circle(t[i].x, t[i].y, 2.5, found[i] ? 5 : 7); // sky: found, yellow: missed
        ov.title(fmt::format("Frame {}: {} true (circles), {} detected (crosses); FP vermilion, FN yellow", f, t.size(), d.size()));
        ov.scale_bar(1000.0 / px_nm, "1 µm");
        ov.save_png(output(e.host, examples_file));
    }

    spotflow_packet pk = table.pk;
    table.pk = {}; // the host owns it now
    return out->emit(out, 0, &pk);
}

const spotflow_port_desc kInputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y (+ score, sample)"},
    {"truth", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y (+ photons, background, sigma, sample)"},
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL, "only for example_detections.png"}};
const spotflow_port_desc kOutputs[] = {{"metrics", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "one row per sample and one for all"}};
constexpr char kScoring[] = "eval.detections";
const spotflow_node_vtable kVtable =
    spotflow::node_vtable<spotflow::FunctionNode<Evaluator, make_evaluator, process, finish, kScoring>>();

} // namespace

const spotflow_plugin_desc kDesc = {"eval.detections", "1.0.0",
                                    "Detections against ground truth: optimal matching, P/R/F1/Jaccard, RMSE and bias, RMSE/CRLB, efficiency",
                                    "evaluator", kInputs, 3, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace eval_detections

SPOTFLOW_EXPORT_PLUGINS(eval_detections::kDesc);

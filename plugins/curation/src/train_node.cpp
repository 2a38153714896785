// train.curation: seed 004's training (UnitRefine's train_model) on a
// metrics table and a labels table.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "importance.hpp"
#include "mlp.hpp"
#include "nodes.hpp"
#include "pipeline.hpp"
#include "search.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "train.curation.json.hpp"

namespace curation {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::train_curation; // train.curation.json

struct Params {
    std::string id_column, label_column;
    std::vector<std::string> metric_names, exclude;
    GridSpec grid;
    double test_size = 0.2;
    int64_t seed = -1, min_items = 50;
    int permutation_repeats = 10;
    nlohmann::json metric_params;
    std::string model_file, accuracies_file, info_file, training_data_file, labels_file, importance_file, importance_figure;
};

Params parse(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) {
        Params p;
        p.id_column = j.at("id_column");
        p.label_column = j.at("label_column");
        p.metric_names = j.at("metric_names").get<std::vector<std::string>>();
        p.exclude = j.at("exclude_metrics").get<std::vector<std::string>>();
        for (const auto& s : j.at("imputation_strategies")) p.grid.imputers.push_back(parse_imputer(s));
        for (const auto& s : j.at("scaling_techniques")) p.grid.scalers.push_back(parse_scaler(s));
        for (const auto& s : j.at("classifiers")) p.grid.classifiers.push_back(parse_classifier(s));
        p.grid.n_iter = j.at("n_iter");
        p.grid.folds = j.at("folds");
        p.test_size = j.at("test_size");
        p.seed = j.at("seed");
        p.min_items = j.at("min_items");
        p.permutation_repeats = j.at("permutation_repeats");
        p.metric_params = j.at("metric_params");
        for (auto [key, field] : {std::pair{"model_file", &p.model_file}, {"accuracies_file", &p.accuracies_file},
                                  {"info_file", &p.info_file}, {"training_data_file", &p.training_data_file},
                                  {"labels_file", &p.labels_file}, {"importance_file", &p.importance_file},
                                  {"importance_figure", &p.importance_figure}})
            *field = j.at(key).get<std::string>();
        return p;
    });
}

std::string f4(double v) { return fmt::format("{:.4f}", v); }

class TrainNode {
public:
    static constexpr const char* kContext = "training the curation classifier";

    TrainNode(const spotflow_host* host, const char* params_json) : host_(host), p_(parse(params_json)) {
        seed_ = p_.seed >= 0 ? static_cast<uint64_t>(p_.seed) : host->seed(host) >> 1;
        p_.grid.seed = seed_;
        p_.grid.threads = std::max(1, host->threads(host));
        std::vector<ClassifierKind> usable;
        for (const ClassifierKind k : p_.grid.classifiers) {
            if (available(k)) usable.push_back(k);
            else host->log(host, SPOTFLOW_LOG_WARNING, (name(k) + " left out: this build has no LibTorch").c_str());
        }
        if (usable.empty()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no classifier of the list can be built here");
        p_.grid.classifiers = usable;
        // Claimed now, so a clash with another node's file fails before the run.
        for (const std::string* f : {&p_.model_file, &p_.accuracies_file, &p_.info_file, &p_.training_data_file,
                                     &p_.labels_file, &p_.importance_file, &p_.importance_figure})
            paths_.push_back(f->empty() ? "" : spotflow::output_path(host, *f));
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter*) {
        const char* what = in.port == 0 ? "metrics" : "labels";
        if (packet.kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(what) + ": received a tensor; a table is expected");
        try {
            (in.port == 0 ? metrics_ : labels_).append(packet.schema, packet.array);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, std::string(what) + ": " + e.what());
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        try {
            return train(out);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        }
    }

private:
    void warn(const std::string& s) const { host_->log(host_, SPOTFLOW_LOG_WARNING, s.c_str()); }
    void info(const std::string& s) const { host_->log(host_, SPOTFLOW_LOG_INFO, s.c_str()); }

    spotflow_status train(const spotflow_emitter* out) {
        const auto t0 = std::chrono::steady_clock::now();
        if (metrics_.rows() == 0) throw std::invalid_argument("metrics: the table has no rows");
        if (labels_.rows() == 0) throw std::invalid_argument("labels: the table has no rows");
        const std::string mid = id_column(metrics_, p_.id_column, "metrics");
        const std::string lid = id_column(labels_, p_.id_column.empty() ? mid : p_.id_column, "labels");
        const std::string lab = label_column(labels_, p_.label_column, "labels");
        std::vector<std::string> exclude = p_.exclude;
        exclude.push_back(mid);
        exclude.push_back(lab);
        std::vector<std::string> names = metric_columns(metrics_, p_.metric_names, exclude, "metrics");
        const Labelled L = join_labels(metrics_, mid, labels_, lid, lab);
        // A metric with no value at all (a linker that gives no link cost) is
        // left out, as scikit-learn's imputers drop it.
        std::vector<std::string> empty;
        {
            const Matrix m = read_metrics(metrics_, names, "metrics").take(L.metrics_rows);
            std::vector<std::string> kept;
            for (size_t c = 0; c < names.size(); ++c) {
                bool any = false;
                for (size_t r = 0; r < m.rows && !any; ++r) any = std::isfinite(m.at(r, c));
                (any ? kept : empty).push_back(names[c]);
            }
            if (kept.empty()) throw std::invalid_argument("metrics: no metric has a value for the labelled items");
            names = kept;
        }
        if (!empty.empty()) warn(fmt::format("metrics with no value, left out: {}", fmt::join(empty, ", ")));
        const int k = static_cast<int>(L.classes.size());
        if (k < 2)
            throw std::invalid_argument("labels: every labelled item is '" + L.classes[0] +
                                        "'; a classifier needs at least two classes");
        if (L.unlabelled > 0) info(fmt::format("{} metrics rows have no label and are left out", L.unlabelled));
        const auto n = static_cast<int64_t>(L.y.size());
        if (n < p_.min_items)
            warn(fmt::format("only {} labelled items (the seed asks for at least {}): the scores will be noisy", n,
                             p_.min_items));
        const Matrix all = read_metrics(metrics_, names, "metrics");
        const Matrix x = all.take(L.metrics_rows);
        int64_t missing = 0;
        for (const double v : x.v) missing += !std::isfinite(v);
        if (missing > 0) info(fmt::format("{} missing or infinite metric values will be imputed", missing));

        const Split split = stratified_split(L.y, k, p_.test_size, seed_);
        std::vector<int64_t> train_count(k, 0);
        for (const size_t r : split.train) ++train_count[L.y[r]];
        for (int c = 0; c < k; ++c)
            if (train_count[c] < 2 * p_.grid.folds)
                throw std::invalid_argument(fmt::format(
                    "labels: class '{}' has {} items in the training split; {}-fold cross-validation needs at least {} (2 per fold)",
                    L.classes[c], train_count[c], p_.grid.folds, 2 * p_.grid.folds));

        set_torch_threads(1); // one fit per thread; the grid runs host->threads() fits at once
        GridResult g = run_grid(x, L.y, k, split, p_.grid, [&] { return host_->is_cancelled(host_) != 0; });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const GridRow& best = g.rows[g.best];
        if (g.best_preprocessor.empty_columns > 0)
            warn(fmt::format("{} metrics have no value in the training split; they are filled with 0",
                             g.best_preprocessor.empty_columns));

        Pipeline pipe;
        pipe.metric_names = names;
        pipe.classes = L.classes;
        pipe.id_column = mid;
        pipe.preprocessor = g.best_preprocessor;
        pipe.classifier = best.classifier;
        pipe.params = best.best_params;
        pipe.model = std::move(g.best_model);
        pipe.training = {{"model_id", best.model_id},
                         {"cv_balanced_accuracy", best.cv_balanced_accuracy},
                         {"test_balanced_accuracy", best.test.balanced_accuracy},
                         {"test_precision", best.test.precision},
                         {"test_recall", best.test.recall},
                         {"n_items", n},
                         {"n_train", split.train.size()},
                         {"n_test", split.test.size()},
                         {"seed", seed_}};
        const nlohmann::json model_json = pipe.to_json();

        std::vector<int> test_y;
        for (const size_t r : split.test) test_y.push_back(L.y[r]);
        const std::vector<Importance> imp =
            permutation_importance(pipe, x.take(split.test), test_y, p_.permutation_repeats, seed_);

        write_outputs(L, x, names, split, g, pipe, model_json, imp, seconds);
        info(fmt::format("best: {} with {} and {} (model {}), cross-validated balanced accuracy {:.4f}, test {:.4f}; {} fits in {:.1f} s",
                         name(best.classifier), name(best.imputer), name(best.scaler), best.model_id,
                         best.cv_balanced_accuracy, best.test.balanced_accuracy, g.fits, seconds));

        // The model, the accuracies and the importances as tables.
        spotflow::TableBuilder m;
        const auto cm = m.add_column("model", ColumnType::Utf8);
        m.append_string(cm, model_json.dump());
        if (const auto s = spotflow::emit_table(out, 0, m, spotflow::table_info())) return s;
        spotflow::TableBuilder a;
        const auto c_name = a.add_column("classifier name", ColumnType::Utf8);
        const auto c_imp = a.add_column("imputation_strategy", ColumnType::Utf8);
        const auto c_sc = a.add_column("scaling_strategy", ColumnType::Utf8);
        const auto c_ba = a.add_column("balanced_accuracy", ColumnType::Float64);
        const auto c_pr = a.add_column("precision", ColumnType::Float64);
        const auto c_re = a.add_column("recall", ColumnType::Float64);
        const auto c_id = a.add_column("model_id", ColumnType::Int64);
        const auto c_bp = a.add_column("best_params", ColumnType::Utf8);
        const auto c_cv = a.add_column("cv_balanced_accuracy", ColumnType::Float64);
        for (const GridRow* r : sorted(g)) {
            a.append_string(c_name, name(r->classifier));
            a.append_string(c_imp, name(r->imputer));
            a.append_string(c_sc, name(r->scaler));
            a.append_double(c_ba, r->test.balanced_accuracy);
            a.append_double(c_pr, r->test.precision);
            a.append_double(c_re, r->test.recall);
            a.append_int(c_id, r->model_id);
            a.append_string(c_bp, r->best_params.dump());
            a.append_double(c_cv, r->cv_balanced_accuracy);
        }
        if (const auto s = spotflow::emit_table(out, 1, a, spotflow::table_info())) return s;
        spotflow::TableBuilder t;
        const auto t_m = t.add_column("metric", ColumnType::Utf8);
        const auto t_i = t.add_column("importance", ColumnType::Float64);
        const auto t_s = t.add_column("importance_sd", ColumnType::Float64);
        for (const Importance& i : imp) {
            t.append_string(t_m, i.metric);
            t.append_double(t_i, i.mean);
            t.append_double(t_s, i.sd);
        }
        return spotflow::emit_table(out, 2, t, spotflow::table_info());
    }

    // Rows by test balanced accuracy, highest first (the seed's table), ties by model_id.
    static std::vector<const GridRow*> sorted(const GridResult& g) {
        std::vector<const GridRow*> rows;
        for (const GridRow& r : g.rows) rows.push_back(&r);
        std::stable_sort(rows.begin(), rows.end(), [](const GridRow* a, const GridRow* b) {
            return a->test.balanced_accuracy > b->test.balanced_accuracy;
        });
        return rows;
    }

    void write_outputs(const Labelled& L, const Matrix& x, const std::vector<std::string>& names, const Split& split,
                       const GridResult& g, const Pipeline& pipe, const nlohmann::json& model_json,
                       const std::vector<Importance>& imp, double seconds) const {
        using spotflow_csv::CsvFile;
        if (!paths_[0].empty()) spotflow_csv::write_file(paths_[0], model_json.dump() + "\n");
        if (!paths_[1].empty()) {
            CsvFile f(paths_[1]);
            for (const char* h : {"classifier name", "imputation_strategy", "scaling_strategy", "balanced_accuracy",
                                  "precision", "recall", "model_id", "best_params", "cv_balanced_accuracy"})
                f.field(std::string_view(h));
            f.end_row();
            for (const GridRow* r : sorted(g)) {
                f.field(name(r->classifier)).field(name(r->imputer)).field(name(r->scaler));
                f.field(f4(r->test.balanced_accuracy)).field(f4(r->test.precision)).field(f4(r->test.recall));
                f.field(static_cast<int64_t>(r->model_id)).field(r->best_params.dump()).field(f4(r->cv_balanced_accuracy));
                f.end_row();
            }
            f.save();
        }
        if (!paths_[2].empty()) {
            nlohmann::json conv = nlohmann::json::object();
            for (size_t i = 0; i < L.classes.size(); ++i) conv[std::to_string(i)] = L.classes[i];
            std::vector<std::string> test_ids;
            for (const size_t r : split.test) test_ids.push_back(L.ids[r]);
            const GridRow& best = g.rows[g.best];
            nlohmann::json info = {
                {"metric_params", p_.metric_params},
                {"requirements", {{"spotflow", "train.curation 1.0.0"}, {"libraries", versions()}}},
                {"label_conversion", conv},
                {"metric_names", names},
                {"id_column", pipe.id_column},
                {"best_model", {{"model_id", best.model_id}, {"classifier", name(best.classifier)},
                                {"imputation_strategy", name(best.imputer)}, {"scaling_strategy", name(best.scaler)},
                                {"params", best.best_params}, {"cv_balanced_accuracy", best.cv_balanced_accuracy},
                                {"test_balanced_accuracy", best.test.balanced_accuracy},
                                {"test_precision", best.test.precision}, {"test_recall", best.test.recall}}},
                {"search", {{"n_iter", p_.grid.n_iter}, {"folds", p_.grid.folds}, {"test_size", p_.test_size},
                            {"seed", seed_}, {"selection", "highest cross-validated balanced accuracy"},
                            {"fits", g.fits}, {"seconds", seconds}, {"threads", p_.grid.threads}}},
                {"items", {{"labelled", L.ids.size()}, {"train", split.train.size()}, {"test", split.test.size()},
                           {"unlabelled_metrics_rows", L.unlabelled}}},
                {"test_ids", test_ids}};
            spotflow_csv::write_file(paths_[2], info.dump(2) + "\n");
        }
        if (!paths_[3].empty()) {
            CsvFile f(paths_[3]);
            f.field(pipe.id_column);
            for (const auto& n : names) f.field(n);
            f.end_row();
            for (size_t r = 0; r < x.rows; ++r) {
                f.field(L.ids[r]);
                for (size_t c = 0; c < x.cols; ++c) f.field(x.at(r, c));
                f.end_row();
            }
            f.save();
        }
        if (!paths_[4].empty()) {
            CsvFile f(paths_[4]);
            f.field(pipe.id_column).field(std::string_view("label")).end_row();
            for (size_t r = 0; r < L.ids.size(); ++r) {
                f.field(L.ids[r]).field(L.labels[r]);
                f.end_row();
            }
            f.save();
        }
        if (!paths_[5].empty()) {
            CsvFile f(paths_[5]);
            f.field(std::string_view("metric")).field(std::string_view("importance")).field(std::string_view("importance_sd")).end_row();
            for (const Importance& i : imp) {
                f.field(i.metric).field(f4(i.mean)).field(f4(i.sd));
                f.end_row();
            }
            f.save();
        }
        if (!paths_[6].empty()) {
            try {
                draw_importance(paths_[6], imp,
                                fmt::format("{} ({}, {}): test balanced accuracy {:.3f}", name(pipe.classifier),
                                            name(pipe.preprocessor.imputer), name(pipe.preprocessor.scaler),
                                            g.rows[g.best].test.balanced_accuracy));
            } catch (const std::exception& e) {
                throw PluginError(SPOTFLOW_ERR_IO, e.what());
            }
        }
    }

    const spotflow_host* host_;
    Params p_;
    uint64_t seed_ = 0;
    std::vector<std::string> paths_;
    TableAccumulator metrics_, labels_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<TrainNode>();

const spotflow_port_desc kInputs[] = {
    {"metrics", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "One row per item: its id and numeric quality metrics"},
    {"labels", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "One row per labelled item: id and label (e.g. Phy's cluster_group.tsv: cluster_id, group)"}};
const spotflow_port_desc kOutputs[] = {
    {"model", kModelType, SPOTFLOW_DATA_TABLE, 0, "The best pipeline (for classify.curation)"},
    {"accuracies", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "model_accuracies.csv's rows"},
    {"importance", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "metric, importance, importance_sd"}};

} // namespace

const spotflow_plugin_desc kTrainDesc = {
    "train.curation", "1.0.0",
    "Trains a curation classifier on quality metrics and labels: imputer x scaler x classifier grid, random search, cross-validated balanced accuracy (seed 004)",
    "trainer", kInputs, 2, 3, kOutputs, kSchema, &kVtable, nullptr};

} // namespace curation

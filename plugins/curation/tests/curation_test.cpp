#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "ml.hpp"
#include "pipeline.hpp"
#include "plugin_harness.hpp"
#include "search.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;
using namespace curation;

namespace {

// ---- the building blocks, against hand-computed (and scikit-learn's) answers

TEST(CurationCore, ImputersAndScalersByHand) {
    Matrix x(5, 1);
    const double col[] = {1, 2, 2, NAN, 10};
    for (size_t r = 0; r < 5; ++r) x.at(r, 0) = col[r];
    EXPECT_DOUBLE_EQ(Preprocessor::fit(x, Imputer::Median, Scaler::MinMax).fill[0], 2);
    EXPECT_DOUBLE_EQ(Preprocessor::fit(x, Imputer::Mean, Scaler::MinMax).fill[0], 15.0 / 4);
    EXPECT_DOUBLE_EQ(Preprocessor::fit(x, Imputer::MostFrequent, Scaler::MinMax).fill[0], 2);
    // Median imputation gives 1, 2, 2, 2, 10: mean 3.4, population sd 3.4409..;
    // median 2, IQR 2 - 2 = 0 -> scale 1; min 1, range 9.
    const Preprocessor s = Preprocessor::fit(x, Imputer::Median, Scaler::Standard);
    EXPECT_DOUBLE_EQ(s.center[0], 3.4);
    EXPECT_NEAR(s.scale[0], std::sqrt((2.4 * 2.4 + 3 * 1.4 * 1.4 + 6.6 * 6.6) / 5), 1e-12);
    const Preprocessor r = Preprocessor::fit(x, Imputer::Median, Scaler::Robust);
    EXPECT_DOUBLE_EQ(r.center[0], 2);
    EXPECT_DOUBLE_EQ(r.scale[0], 1);
    const Preprocessor m = Preprocessor::fit(x, Imputer::Median, Scaler::MinMax);
    const Matrix y = m.apply(x);
    EXPECT_DOUBLE_EQ(y.at(3, 0), 1.0 / 9); // the NaN, imputed with 2
    EXPECT_DOUBLE_EQ(y.at(4, 0), 1.0);
    // A column with no value fills with 0; an infinite value is imputed.
    Matrix e(2, 1, NAN);
    EXPECT_EQ(Preprocessor::fit(e, Imputer::Mean, Scaler::Standard).empty_columns, 1);
    x.at(0, 0) = INFINITY;
    EXPECT_DOUBLE_EQ(m.apply(x).at(0, 0), 1.0 / 9);
}

// scikit-learn: balanced_accuracy_score([0,0,0,1,1,2], [0,1,0,1,1,1]) = (2/3 + 1 + 0)/3;
// precision_score(..., average="macro") = (1 + 2/4 + 0)/3, recall = the same as balanced accuracy here.
TEST(CurationCore, ScoresAsScikitLearn) {
    const Scores s = score({0, 0, 0, 1, 1, 2}, {0, 1, 0, 1, 1, 1}, 3);
    EXPECT_NEAR(s.balanced_accuracy, (2.0 / 3 + 1 + 0) / 3, 1e-12);
    EXPECT_NEAR(s.precision, (1 + 0.5 + 0) / 3, 1e-12);
    EXPECT_NEAR(s.recall, (2.0 / 3 + 1 + 0) / 3, 1e-12);
}

TEST(CurationCore, StratifiedSplitAndFolds) {
    std::vector<int> y;
    for (int i = 0; i < 100; ++i) y.push_back(i < 70 ? 0 : 1);
    const Split s = stratified_split(y, 2, 0.2, 7);
    ASSERT_EQ(s.test.size(), 20u);
    int ones = 0;
    for (const size_t r : s.test) ones += y[r];
    EXPECT_EQ(ones, 6);
    EXPECT_EQ(stratified_split(y, 2, 0.2, 7).test, s.test); // seeded
    const std::vector<int> fold = stratified_folds(y, s.train, 2, 5, 7);
    std::vector<int> per_fold(5, 0), ones_per_fold(5, 0);
    for (size_t i = 0; i < fold.size(); ++i) ++per_fold[fold[i]], ones_per_fold[fold[i]] += y[s.train[i]];
    for (int f = 0; f < 5; ++f) {
        EXPECT_EQ(per_fold[f], 16);
        EXPECT_GE(ones_per_fold[f], 4);
        EXPECT_LE(ones_per_fold[f], 5);
    }
}

// Two classes separated along two of four metrics, with missing values.
struct Synthetic {
    Matrix x;
    std::vector<int> y;
};
Synthetic synthetic(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, 1);
    Synthetic s{Matrix(n, 4), {}};
    for (size_t r = 0; r < n; ++r) {
        const int c = r % 3 == 0 ? 1 : 0;
        s.y.push_back(c);
        s.x.at(r, 0) = g(rng) + 3.0 * c;
        s.x.at(r, 1) = g(rng) - 2.5 * c;
        s.x.at(r, 2) = g(rng);
        s.x.at(r, 3) = r % 11 == 0 ? NAN : g(rng) * 10;
    }
    return s;
}

TEST(CurationCore, EveryClassifierLearnsASeparableProblemAndRoundTrips) {
    const Synthetic s = synthetic(300, 1);
    const Preprocessor p = Preprocessor::fit(s.x, Imputer::Median, Scaler::Standard);
    const Matrix x = p.apply(s.x);
    for (const ClassifierKind k : {ClassifierKind::RandomForest, ClassifierKind::GradientBoosting,
                                   ClassifierKind::LogisticRegression, ClassifierKind::MLP}) {
        if (!available(k)) continue;
        const auto params = sample_params(k, 1, 3).at(0);
        const auto model = fit_model(k, params, x, s.y, 2, 5);
        const Matrix proba = model->predict_proba(x);
        EXPECT_GT(score(s.y, argmax_rows(proba), 2).balanced_accuracy, 0.9) << name(k);
        const auto loaded = load_model(k, nlohmann::json::parse(model->save().dump()));
        const Matrix again = loaded->predict_proba(x);
        for (size_t i = 0; i < proba.v.size(); ++i) ASSERT_NEAR(again.v[i], proba.v[i], 1e-6) << name(k);
        // Deterministic for a seed.
        const Matrix twice = fit_model(k, params, x, s.y, 2, 5)->predict_proba(x);
        EXPECT_EQ(twice.v, proba.v) << name(k);
    }
}

// ---- the plugins, through the harness

class CurationPlugin : public ::testing::Test {
protected:
    static fs::path make_dir() {
        fs::path d = fs::temp_directory_path() / ("spotflow_curation_" + std::to_string(getpid()) + "_" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(d);
        return d;
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Metrics (cluster_id, a, b, c, d) and labels (cluster_id, group) tables.
    static std::unique_ptr<OwnedPacket> metrics_table(const Synthetic& s, bool text_column = false) {
        TableBuilder b;
        const auto id = b.add_column("cluster_id", ColumnType::Int64);
        std::vector<size_t> cols;
        for (const char* n : {"a", "b", "c", "d"}) cols.push_back(b.add_column(n, ColumnType::Float64));
        const size_t t = text_column ? b.add_column("brain_area", ColumnType::Utf8) : 0;
        for (size_t r = 0; r < s.x.rows; ++r) {
            b.append_int(id, static_cast<int64_t>(r));
            for (size_t c = 0; c < 4; ++c)
                std::isnan(s.x.at(r, c)) ? b.append_null(cols[c]) : b.append_double(cols[c], s.x.at(r, c));
            if (text_column) b.append_string(t, "CA1");
        }
        return packet(b);
    }
    static std::unique_ptr<OwnedPacket> labels_table(const std::vector<int>& y, int64_t id_offset = 0,
                                                     const char* good = "good", const char* bad = "noise") {
        TableBuilder b;
        const auto id = b.add_column("cluster_id", ColumnType::Int64);
        const auto g = b.add_column("group", ColumnType::Utf8);
        for (size_t r = 0; r < y.size(); ++r) {
            b.append_int(id, static_cast<int64_t>(r) + id_offset);
            b.append_string(g, y[r] ? good : bad);
        }
        return packet(b);
    }
    static std::unique_ptr<OwnedPacket> packet(TableBuilder& b) {
        auto p = std::make_unique<OwnedPacket>();
        p->p.kind = SPOTFLOW_DATA_TABLE;
        p->p.info.total_frames = -1;
        b.finish(&p->p.schema, &p->p.array);
        return p;
    }
    std::string train_params(const std::string& extra = "") const {
        nlohmann::json j = {{"id_column", ""}, {"label_column", ""}, {"metric_names", nlohmann::json::array()},
                            {"exclude_metrics", nlohmann::json::array()},
                            {"imputation_strategies", {"median", "mean"}},
                            {"scaling_techniques", {"standard_scaler", "min_max_scaler"}},
                            {"classifiers", {"RandomForestClassifier", "GradientBoostingClassifier", "LogisticRegression", "MLPClassifier"}},
                            {"n_iter", 2}, {"folds", 3}, {"test_size", 0.2}, {"seed", 3}, {"min_items", 50},
                            {"permutation_repeats", 3}, {"metric_params", nlohmann::json::object()},
                            {"model_file", "best_model.json"}, {"accuracies_file", "model_accuracies.csv"},
                            {"info_file", "model_info.json"}, {"training_data_file", "training_data.csv"},
                            {"labels_file", "labels.csv"}, {"importance_file", "feature_importances.csv"},
                            {"importance_figure", "feature_importances.png"}};
        if (!extra.empty()) j.merge_patch(nlohmann::json::parse(extra));
        return j.dump();
    }
    std::string classify_params(const std::string& model_file) const {
        return nlohmann::json({{"model_file", model_file}, {"id_column", ""}, {"keep", {"good"}},
                               {"min_probability", 0.5}, {"predictions_file", "model_predictions.csv"}})
            .dump();
    }
    // Runs train.curation; returns its status.
    spotflow_status train(const Synthetic& s, const std::string& extra = "", bool text = false) {
        NodeRunner node(lib.plugin("train.curation"), host, train_params(extra));
        if (!node.created()) return host.error_status;
        if (auto st = node.process(0, metrics_table(s, text)->p)) return st;
        if (auto st = node.process(1, labels_table(s.y)->p)) return st;
        return node.finish();
    }

    fs::path dir_ = make_dir();
    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
};

std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(CurationPlugin, TrainsTheGridWritesTheSeedsFilesAndClassifies) {
    const Synthetic s = synthetic(150, 2);
    ASSERT_EQ(train(s), SPOTFLOW_OK) << host.error;
    const std::string acc = read_text(dir_ / "model_accuracies.csv");
    EXPECT_EQ(acc.substr(0, acc.find('\n')),
              "classifier name,imputation_strategy,scaling_strategy,balanced_accuracy,precision,recall,model_id,best_params,cv_balanced_accuracy");
    EXPECT_EQ(std::count(acc.begin(), acc.end(), '\n'), 1 + 2 * 2 * (available(ClassifierKind::MLP) ? 4 : 3));
    const auto info = nlohmann::json::parse(read_text(dir_ / "model_info.json"));
    EXPECT_EQ(info.at("label_conversion"), nlohmann::json({{"0", "good"}, {"1", "noise"}}));
    EXPECT_TRUE(info.contains("metric_params"));
    EXPECT_TRUE(info.contains("requirements"));
    EXPECT_EQ(info.at("metric_names"), nlohmann::json({"a", "b", "c", "d"}));
    // 30 test items make the test score coarse; the cross-validated one is steadier.
    EXPECT_GT(info.at("best_model").at("cv_balanced_accuracy").get<double>(), 0.9) << acc;
    EXPECT_GT(info.at("best_model").at("test_balanced_accuracy").get<double>(), 0.7) << acc;
    EXPECT_EQ(info.at("test_ids").size(), 30u);
    const std::string td = read_text(dir_ / "training_data.csv");
    EXPECT_EQ(td.substr(0, td.find('\n')), "cluster_id,a,b,c,d");
    EXPECT_EQ(std::count(td.begin(), td.end(), '\n'), 151);
    EXPECT_EQ(read_text(dir_ / "labels.csv").substr(0, 24), "cluster_id,label\n0,good\n");
    EXPECT_TRUE(fs::file_size(dir_ / "feature_importances.png") > 1000);
    const std::string imp = read_text(dir_ / "feature_importances.csv");
    EXPECT_EQ(imp.substr(0, imp.find('\n')), "metric,importance,importance_sd");
    // "a" or "b" carries the classes; c and d are noise.
    const std::string first = imp.substr(imp.find('\n') + 1, 1);
    EXPECT_TRUE(first == "a" || first == "b") << imp;

    // The saved model applied to new items (one with a missing metric).
    Synthetic fresh = synthetic(40, 9);
    fresh.x.at(5, 0) = NAN;
    FakeHost h2{dir_ / "apply"};
    fs::create_directories(dir_ / "apply");
    NodeRunner apply(lib.plugin("classify.curation"), h2, classify_params((dir_ / "best_model.json").string()));
    ASSERT_TRUE(apply.created()) << h2.error;
    ASSERT_EQ(apply.process(0, metrics_table(fresh)->p), SPOTFLOW_OK) << h2.error;
    ASSERT_EQ(apply.finish(), SPOTFLOW_OK) << h2.error;
    ASSERT_EQ(apply.emitted.size(), 1u);
    const TableView pred = apply.emitted[0]->table();
    ASSERT_EQ(pred.rows(), 40);
    int right = 0;
    for (int64_t r = 0; r < 40; ++r) {
        EXPECT_EQ(pred.get_string(pred.require("cluster_id"), r), std::to_string(r)); // input order
        const double p = pred.get_double(pred.require("probability"), r);
        EXPECT_GE(p, 0.5);
        EXPECT_LE(p, 1.0);
        right += pred.get_string(pred.require("prediction"), r) == (fresh.y[r] ? "good" : "noise");
    }
    EXPECT_GE(right, 34);
    const std::string csv = read_text(dir_ / "apply" / "model_predictions.csv");
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "cluster_id,prediction,probability");
}

TEST_F(CurationPlugin, FiltersTracksByThePredictions) {
    // Metrics by track: the model trained above on "cluster_id" reads any id column.
    const Synthetic s = synthetic(120, 4);
    ASSERT_EQ(train(s, R"({"classifiers": ["LogisticRegression"], "imputation_strategies": ["median"], "scaling_techniques": ["standard_scaler"]})"),
              SPOTFLOW_OK) << host.error;
    TableBuilder m;
    const auto id = m.add_column("track_id", ColumnType::Int64);
    std::vector<size_t> c;
    for (const char* n : {"a", "b", "c", "d"}) c.push_back(m.add_column(n, ColumnType::Float64));
    const double good[] = {3, -2.5, 0, 0}, bad[] = {0, 0, 0, 0};
    for (int64_t t = 0; t < 3; ++t) {
        m.append_int(id, t);
        for (size_t k = 0; k < 4; ++k) m.append_double(c[k], t == 1 ? bad[k] : good[k]);
    }
    TableBuilder tr;
    const auto f = tr.add_column("frame", ColumnType::Int64);
    const auto x = tr.add_column("x", ColumnType::Float64);
    const auto y = tr.add_column("y", ColumnType::Float64);
    const auto tid = tr.add_column("track_id", ColumnType::Int64);
    const auto ph = tr.add_column("photons", ColumnType::Float64);
    for (int64_t r = 0; r < 12; ++r) {
        tr.append_int(f, r / 4);
        tr.append_double(x, static_cast<double>(r));
        tr.append_double(y, 1.0);
        tr.append_int(tid, r % 4); // track 3 has no metrics row
        tr.append_double(ph, 100.0 + static_cast<double>(r));
    }
    NodeRunner apply(lib.plugin("classify.curation"), host, classify_params((dir_ / "best_model.json").string()));
    ASSERT_TRUE(apply.created()) << host.error;
    ASSERT_EQ(apply.process(0, packet(m)->p), SPOTFLOW_OK);
    ASSERT_EQ(apply.process(2, packet(tr)->p), SPOTFLOW_OK);
    ASSERT_EQ(apply.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(apply.emitted.size(), 2u);
    const TableView kept = apply.emitted[1]->table();
    EXPECT_EQ(kept.columns(), 5); // every column unchanged
    ASSERT_EQ(kept.rows(), 6);    // tracks 0 and 2, 3 rows each, in input order
    for (int64_t r = 0; r < 6; ++r) {
        const int64_t t = kept.get_int(kept.require("track_id"), r);
        EXPECT_TRUE(t == 0 || t == 2);
    }
    EXPECT_DOUBLE_EQ(kept.get_double(kept.require("photons"), 1), 102.0);
    EXPECT_EQ(host.logs.back(), "1 tracks have no metrics row and are left out of the filtered tracks");
}

// ---- bad input: one clear error naming the cause

TEST_F(CurationPlugin, AnEmptyMetricsTableIsAnError) {
    NodeRunner node(lib.plugin("train.curation"), host, train_params());
    ASSERT_EQ(node.process(0, metrics_table(Synthetic{Matrix(0, 4), {}})->p), SPOTFLOW_OK);
    ASSERT_EQ(node.process(1, labels_table({1, 0})->p), SPOTFLOW_OK);
    EXPECT_EQ(node.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "metrics: the table has no rows");
    EXPECT_FALSE(fs::exists(dir_ / "model_accuracies.csv"));
}

TEST_F(CurationPlugin, OneClassIsAnError) {
    Synthetic s = synthetic(60, 5);
    for (int& v : s.y) v = 1;
    EXPECT_EQ(train(s), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "labels: every labelled item is 'good'; a classifier needs at least two classes");
}

TEST_F(CurationPlugin, FewerThanFiftyItemsWarns) {
    ASSERT_EQ(train(synthetic(45, 6), R"({"classifiers": ["LogisticRegression"]})"), SPOTFLOW_OK) << host.error;
    EXPECT_NE(std::find(host.logs.begin(), host.logs.end(),
                        "only 45 labelled items (the seed asks for at least 50): the scores will be noisy"),
              host.logs.end());
}

TEST_F(CurationPlugin, FewerThanTwoPerClassPerFoldIsAnError) {
    Synthetic s = synthetic(60, 7); // 20 good: 16 in training, 5-fold needs 10 -> fine; make it 8
    for (size_t r = 0, good = 0; r < s.y.size(); ++r)
        if (s.y[r] == 1 && ++good > 8) s.y[r] = 0;
    EXPECT_EQ(train(s, R"({"folds": 5})"), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error,
              "labels: class 'good' has 6 items in the training split; "
              "5-fold cross-validation needs at least 10 (2 per fold)");
}

TEST_F(CurationPlugin, ATextMetricColumnIsAnError) {
    EXPECT_EQ(train(synthetic(60, 8), "", true), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error,
              "metrics: metric column 'brain_area' holds text, not numbers "
              "(leave it out with metric_names or exclude_metrics)");
}

TEST_F(CurationPlugin, ALabelIdWithoutMetricsIsAnError) {
    const Synthetic s = synthetic(60, 9);
    NodeRunner node(lib.plugin("train.curation"), host, train_params());
    ASSERT_EQ(node.process(0, metrics_table(s)->p), SPOTFLOW_OK);
    ASSERT_EQ(node.process(1, labels_table(s.y, 5)->p), SPOTFLOW_OK); // ids 5..64; metrics 0..59
    EXPECT_EQ(node.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "labels: cluster_id 60 matches no metrics row (cluster_id)");
}

TEST_F(CurationPlugin, AModelAppliedToATableMissingAMetricIsAnError) {
    ASSERT_EQ(train(synthetic(60, 10), R"({"classifiers": ["LogisticRegression"]})"), SPOTFLOW_OK) << host.error;
    TableBuilder b;
    const auto id = b.add_column("cluster_id", ColumnType::Int64);
    const auto a = b.add_column("a", ColumnType::Float64);
    b.append_int(id, 0);
    b.append_double(a, 1);
    NodeRunner apply(lib.plugin("classify.curation"), host, classify_params((dir_ / "best_model.json").string()));
    ASSERT_TRUE(apply.created()) << host.error;
    ASSERT_EQ(apply.process(0, packet(b)->p), SPOTFLOW_OK);
    EXPECT_EQ(apply.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "metrics has no column 'b', a metric of the model");
}

TEST_F(CurationPlugin, NotAModelFileIsAnError) {
    std::ofstream(dir_ / "x.json") << R"({"weights": []})";
    NodeRunner apply(lib.plugin("classify.curation"), host, classify_params((dir_ / "x.json").string()));
    EXPECT_FALSE(apply.created());
    EXPECT_EQ(host.error, "curation model '" + (dir_ / "x.json").string() +
                              "' is not a curation model (no \"format\": \"spotflow-curation-model\")");
}

} // namespace

#include "search.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace curation {
namespace {

std::vector<std::vector<size_t>> by_class(const std::vector<int>& y, const std::vector<size_t>& rows, int n_classes) {
    std::vector<std::vector<size_t>> out(static_cast<size_t>(n_classes));
    for (const size_t r : rows) out[static_cast<size_t>(y[r])].push_back(r);
    return out;
}

std::vector<int> take(const std::vector<int>& y, const std::vector<size_t>& rows) {
    std::vector<int> out(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) out[i] = y[rows[i]];
    return out;
}

} // namespace

Split stratified_split(const std::vector<int>& y, int n_classes, double test_fraction, uint64_t seed) {
    std::vector<size_t> all(y.size());
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 rng(mix(seed, 1));
    Split s;
    for (auto& members : by_class(y, all, n_classes)) {
        if (members.empty()) continue;
        std::shuffle(members.begin(), members.end(), rng);
        const auto n = static_cast<int64_t>(members.size());
        const int64_t n_test = std::clamp<int64_t>(std::llround(test_fraction * static_cast<double>(n)), 1, n - 1);
        s.test.insert(s.test.end(), members.begin(), members.begin() + n_test);
        s.train.insert(s.train.end(), members.begin() + n_test, members.end());
    }
    std::sort(s.train.begin(), s.train.end());
    std::sort(s.test.begin(), s.test.end());
    return s;
}

std::vector<int> stratified_folds(const std::vector<int>& y, const std::vector<size_t>& rows, int n_classes, int k,
                                  uint64_t seed) {
    std::map<size_t, size_t> pos;
    for (size_t i = 0; i < rows.size(); ++i) pos[rows[i]] = i;
    std::vector<int> fold(rows.size(), 0);
    std::mt19937_64 rng(mix(seed, 2));
    int next = 0; // continue the deal across classes, so fold sizes stay even
    for (auto& members : by_class(y, rows, n_classes)) {
        std::shuffle(members.begin(), members.end(), rng);
        for (const size_t r : members) {
            fold[pos[r]] = next;
            next = (next + 1) % k;
        }
    }
    return fold;
}

GridResult run_grid(const Matrix& x, const std::vector<int>& y, int n_classes, const Split& split,
                    const GridSpec& spec, const std::function<bool()>& cancelled) {
    const std::vector<int> fold = stratified_folds(y, split.train, n_classes, spec.folds, spec.seed);
    // Per fold, the rows it trains on and the rows it scores.
    std::vector<std::vector<size_t>> fit_rows(spec.folds), val_rows(spec.folds);
    for (size_t i = 0; i < split.train.size(); ++i)
        for (int f = 0; f < spec.folds; ++f) (fold[i] == f ? val_rows : fit_rows)[f].push_back(split.train[i]);

    struct Config {
        int model_id;
        Imputer imputer;
        Scaler scaler;
        ClassifierKind kind;
        int fitted_as; // a scale-invariant model shares the fits of its imputer's first scaler
    };
    std::vector<Config> configs;
    std::map<std::pair<int, int>, int> first_of; // (imputer, classifier) -> config fitted
    for (const Imputer imp : spec.imputers)
        for (const Scaler sc : spec.scalers)
            for (const ClassifierKind k : spec.classifiers) {
                const int id = static_cast<int>(configs.size());
                int as = id;
                if (scale_invariant(k)) {
                    const auto key = std::make_pair(static_cast<int>(imp), static_cast<int>(k));
                    const auto it = first_of.find(key);
                    if (it == first_of.end()) first_of[key] = id;
                    else as = it->second;
                }
                configs.push_back({id, imp, sc, k, as});
            }
    std::map<ClassifierKind, std::vector<nlohmann::json>> candidates;
    for (const ClassifierKind k : spec.classifiers) candidates[k] = sample_params(k, spec.n_iter, spec.seed);

    // One job per (config fitted, candidate, fold).
    struct Job {
        int config;
        int candidate;
        int fold;
        double score = 0;
    };
    std::vector<Job> jobs;
    for (const Config& c : configs) {
        if (c.fitted_as != c.model_id) continue;
        for (int k = 0; k < static_cast<int>(candidates[c.kind].size()); ++k)
            for (int f = 0; f < spec.folds; ++f) jobs.push_back({c.model_id, k, f});
    }
    // Preprocessing per (imputer, scaler, fold) is shared by every candidate.
    std::map<std::tuple<int, int, int>, std::pair<Matrix, Matrix>> prepared; // fit, validation
    for (const Imputer imp : spec.imputers)
        for (const Scaler sc : spec.scalers)
            for (int f = 0; f < spec.folds; ++f) {
                const Matrix fit_x = x.take(fit_rows[f]);
                const Preprocessor p = Preprocessor::fit(fit_x, imp, sc);
                prepared[{static_cast<int>(imp), static_cast<int>(sc), f}] = {p.apply(fit_x), p.apply(x.take(val_rows[f]))};
            }
    std::vector<std::vector<int>> fit_y(spec.folds), val_y(spec.folds);
    for (int f = 0; f < spec.folds; ++f) fit_y[f] = take(y, fit_rows[f]), val_y[f] = take(y, val_rows[f]);

    std::atomic<bool> stop{false};
    tbb::task_arena arena(std::max(1, spec.threads));
    arena.execute([&] {
        tbb::parallel_for(size_t{0}, jobs.size(), size_t{1}, [&](size_t j) {
            if (stop.load() || cancelled()) {
                stop = true;
                return;
            }
            Job& job = jobs[j];
            const Config& c = configs[static_cast<size_t>(job.config)];
            const auto& [fx, vx] = prepared.at({static_cast<int>(c.imputer), static_cast<int>(c.scaler), job.fold});
            const uint64_t seed = mix(spec.seed, 10000 + static_cast<uint64_t>(job.candidate) * 16 + static_cast<uint64_t>(job.fold));
            const auto model = fit_model(c.kind, candidates.at(c.kind)[static_cast<size_t>(job.candidate)], fx,
                                         fit_y[job.fold], n_classes, seed);
            job.score = score(val_y[job.fold], argmax_rows(model->predict_proba(vx)), n_classes).balanced_accuracy;
        });
    });
    if (stop) throw std::runtime_error("cancelled");

    // Mean score per (config, candidate); the best candidate per config.
    std::map<std::pair<int, int>, double> mean;
    for (const Job& j : jobs) mean[{j.config, j.candidate}] += j.score / spec.folds;
    GridResult out;
    out.fits = static_cast<int64_t>(jobs.size());
    std::vector<int> best_candidate(configs.size(), 0);
    std::vector<double> best_cv(configs.size(), -1);
    for (const Config& c : configs) {
        for (int k = 0; k < static_cast<int>(candidates[c.kind].size()); ++k) {
            const double m = mean[{c.fitted_as, k}];
            if (m > best_cv[c.model_id] + 1e-12) best_cv[c.model_id] = m, best_candidate[c.model_id] = k;
        }
    }

    // Refit each config's best candidate on the whole training split; score on the test split.
    const Matrix train_x = x.take(split.train), test_x = x.take(split.test);
    const std::vector<int> train_y = take(y, split.train), test_y = take(y, split.test);
    out.rows.resize(configs.size());
    std::vector<Preprocessor> pres(configs.size());
    std::vector<std::unique_ptr<Model>> models(configs.size());
    arena.execute([&] {
        tbb::parallel_for(size_t{0}, configs.size(), size_t{1}, [&](size_t i) {
            const Config& c = configs[i];
            pres[i] = Preprocessor::fit(train_x, c.imputer, c.scaler);
            const auto& params = candidates.at(c.kind)[static_cast<size_t>(best_candidate[i])];
            models[i] = fit_model(c.kind, params, pres[i].apply(train_x), train_y, n_classes,
                                  mix(spec.seed, 20000 + static_cast<uint64_t>(best_candidate[i])));
            GridRow& r = out.rows[i];
            r.model_id = c.model_id;
            r.classifier = c.kind;
            r.imputer = c.imputer;
            r.scaler = c.scaler;
            r.best_params = params;
            r.cv_balanced_accuracy = best_cv[i];
            r.test = score(test_y, argmax_rows(models[i]->predict_proba(pres[i].apply(test_x))), n_classes);
        });
    });
    for (size_t i = 1; i < out.rows.size(); ++i)
        if (out.rows[i].cv_balanced_accuracy > out.rows[out.best].cv_balanced_accuracy + 1e-12) out.best = i;
    out.best_preprocessor = pres[out.best];
    out.best_model = std::move(models[out.best]);
    return out;
}

} // namespace curation

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ml.hpp"

namespace curation {
namespace {

// numpy's default (linear) percentile of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// scikit-learn's most_frequent: the smallest of the most frequent values.
double mode(const std::vector<double>& sorted) {
    double best = sorted[0];
    size_t best_n = 0;
    for (size_t i = 0; i < sorted.size();) {
        size_t j = i;
        while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
        if (j - i > best_n) best_n = j - i, best = sorted[i];
        i = j;
    }
    return best;
}

} // namespace

Matrix Matrix::take(const std::vector<size_t>& row_ids) const {
    Matrix m(row_ids.size(), cols);
    for (size_t r = 0; r < row_ids.size(); ++r)
        std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(row_ids[r] * cols), cols,
                    m.v.begin() + static_cast<std::ptrdiff_t>(r * cols));
    return m;
}

Preprocessor Preprocessor::fit(const Matrix& x, Imputer imputer, Scaler scaler) {
    Preprocessor p;
    p.imputer = imputer;
    p.scaler = scaler;
    p.fill.assign(x.cols, 0);
    p.center.assign(x.cols, 0);
    p.scale.assign(x.cols, 1);
    std::vector<double> col;
    for (size_t c = 0; c < x.cols; ++c) {
        col.clear();
        for (size_t r = 0; r < x.rows; ++r)
            if (std::isfinite(x.at(r, c))) col.push_back(x.at(r, c));
        if (col.empty()) {
            ++p.empty_columns;
            continue;
        }
        std::sort(col.begin(), col.end());
        double sum = 0;
        for (const double v : col) sum += v;
        const double mean = sum / static_cast<double>(col.size());
        switch (imputer) {
        case Imputer::Median: p.fill[c] = quantile(col, 0.5); break;
        case Imputer::Mean: p.fill[c] = mean; break;
        case Imputer::MostFrequent: p.fill[c] = mode(col); break;
        }
        // The scaler sees the imputed column, as in a scikit-learn pipeline.
        const size_t missing = x.rows - col.size();
        if (missing > 0) {
            col.insert(col.end(), missing, p.fill[c]);
            std::sort(col.begin(), col.end());
        }
        switch (scaler) {
        case Scaler::Standard: {
            double s = 0, ss = 0;
            for (const double v : col) s += v;
            const double m = s / static_cast<double>(col.size());
            for (const double v : col) ss += (v - m) * (v - m);
            const double sd = std::sqrt(ss / static_cast<double>(col.size()));
            p.center[c] = m;
            p.scale[c] = sd > 0 ? sd : 1;
            break;
        }
        case Scaler::Robust: {
            const double iqr = quantile(col, 0.75) - quantile(col, 0.25);
            p.center[c] = quantile(col, 0.5);
            p.scale[c] = iqr > 0 ? iqr : 1;
            break;
        }
        case Scaler::MinMax: {
            const double range = col.back() - col.front();
            p.center[c] = col.front();
            p.scale[c] = range > 0 ? range : 1;
            break;
        }
        }
    }
    return p;
}

Matrix Preprocessor::apply(const Matrix& x) const {
    if (x.cols != fill.size())
        throw std::invalid_argument("the table has " + std::to_string(x.cols) + " metrics; the model was fitted on " +
                                    std::to_string(fill.size()));
    Matrix out(x.rows, x.cols);
    for (size_t r = 0; r < x.rows; ++r)
        for (size_t c = 0; c < x.cols; ++c) {
            const double v = std::isfinite(x.at(r, c)) ? x.at(r, c) : fill[c];
            out.at(r, c) = (v - center[c]) / scale[c];
        }
    return out;
}

nlohmann::json Preprocessor::to_json() const {
    return {{"imputation_strategy", name(imputer)}, {"scaling_strategy", name(scaler)},
            {"fill", fill}, {"center", center}, {"scale", scale}};
}

Preprocessor Preprocessor::from_json(const nlohmann::json& j) {
    Preprocessor p;
    p.imputer = parse_imputer(j.at("imputation_strategy").get<std::string>());
    p.scaler = parse_scaler(j.at("scaling_strategy").get<std::string>());
    p.fill = j.at("fill").get<std::vector<double>>();
    p.center = j.at("center").get<std::vector<double>>();
    p.scale = j.at("scale").get<std::vector<double>>();
    if (p.center.size() != p.fill.size() || p.scale.size() != p.fill.size())
        throw std::invalid_argument("the preprocessing has columns of different lengths");
    return p;
}

} // namespace curation

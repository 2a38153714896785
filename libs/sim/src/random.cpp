#include "spotflow_sim/random.hpp"

#include <algorithm>
#include <cmath>

namespace sim {
namespace {

constexpr double kZigR = 3.6541528853610088;  // start of the tail
constexpr double kZigV = 4.92867323399e-3;     // area of each layer

// Marsaglia's tail method for |x| > r.
double normal_tail(Rng& rng, double r, bool negative) {
    double x, y;
    do {
        x = std::log(rng.uniform_pos()) / r;
        y = std::log(rng.uniform_pos());
    } while (-2.0 * y < x * x);
    return negative ? x - r : r - x;
}

struct LogFactorialTable {
    static constexpr int kSize = 256;
    double v[kSize];
    LogFactorialTable() {
        v[0] = 0;
        for (int k = 1; k < kSize; ++k) v[k] = v[k - 1] + std::log(static_cast<double>(k));
    }
};

} // namespace

ZigguratTables::ZigguratTables() {
    double f = std::exp(-0.5 * kZigR * kZigR);
    x[0] = kZigV / f; // the base layer, rectangle plus tail, as a wider rectangle
    x[1] = kZigR;
    x[kLayers] = 0;
    for (int i = 2; i < kLayers; ++i) {
        x[i] = std::sqrt(-2.0 * std::log(kZigV / x[i - 1] + f));
        f = std::exp(-0.5 * x[i] * x[i]);
    }
    for (int i = 0; i < kLayers; ++i) {
        limit[i] = static_cast<int64_t>(x[i + 1] / x[i] * 0x1.0p55);
        scale[i] = x[i] * 0x1.0p-55;
    }
}

const ZigguratTables& ziggurat() {
    static const ZigguratTables tables;
    return tables;
}

double Normal::slow(Rng& rng, int i, double u) const {
    for (;;) {
        if (i == 0) return normal_tail(rng, kZigR, u < 0);
        const double x = u * t_.x[i];
        const double f0 = std::exp(-0.5 * (t_.x[i] * t_.x[i] - x * x));
        const double f1 = std::exp(-0.5 * (t_.x[i + 1] * t_.x[i + 1] - x * x));
        if (f1 + rng.uniform() * (f0 - f1) < 1.0) return x;
        const uint64_t bits = rng.next();
        i = static_cast<int>(bits & (ZigguratTables::kLayers - 1));
        const int64_t j = static_cast<int64_t>(bits) >> 8;
        if ((j < 0 ? -j : j) < t_.limit[i]) return static_cast<double>(j) * t_.scale[i];
        u = static_cast<double>(j) * 0x1.0p-55;
    }
}

double log_factorial(int64_t k) {
    static const LogFactorialTable table;
    if (k < LogFactorialTable::kSize) return table.v[k];
    // Stirling's series; at k >= 256 the next term is below 1e-17 relative.
    const double n = static_cast<double>(k);
    const double r = 1.0 / n, r2 = r * r;
    return n * std::log(n) - n + 0.5 * std::log(2.0 * M_PI * n) + r * (1.0 / 12 - r2 * (1.0 / 360 - r2 / 1260));
}

DiscreteSampler::DiscreteSampler(int64_t first, const std::vector<double>& pmf) : first_(first) {
    double F = 0;
    for (const double p : pmf) {
        F += p;
        cdf_.push_back(F);
    }
    if (cdf_.empty()) cdf_.push_back(1.0);
    cdf_.back() = 1.0;
    const size_t buckets = size_t{1} << kGuideBits;
    guide_.resize(buckets);
    size_t k = 0;
    for (size_t j = 0; j < buckets; ++j) {
        const double lo = static_cast<double>(j) / static_cast<double>(buckets);
        const double hi = static_cast<double>(j + 1) / static_cast<double>(buckets);
        while (k + 1 < cdf_.size() && cdf_[k] <= lo) ++k;
        guide_[j] = static_cast<uint32_t>(k) | (cdf_[k] >= hi ? kPure : 0u);
    }
}

// The bucket holds a CDF step: the smallest k from `start` with u < F(k).
int64_t DiscreteSampler::search(uint64_t bits, uint32_t start) const {
    const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;
    size_t k = start;
    while (u >= cdf_[k]) ++k; // ends: cdf_.back() is 1 > u
    return static_cast<int64_t>(k);
}

std::vector<double> poisson_pmf(double lambda, int64_t* first) {
    std::vector<double> pmf;
    *first = 0;
    if (lambda <= 0) return {1.0};
    const double sd = std::sqrt(lambda);
    *first = std::max<int64_t>(0, static_cast<int64_t>(lambda - 12 * sd - 10));
    const auto last = static_cast<int64_t>(lambda + 12 * sd + 20);
    const double log_lambda = std::log(lambda);
    for (int64_t k = *first; k <= last; ++k)
        pmf.push_back(std::exp(static_cast<double>(k) * log_lambda - lambda - log_factorial(k)));
    return pmf;
}

PoissonSampler::PoissonSampler(double lambda) : lambda_(std::max(0.0, lambda)) {
    if (lambda_ < kPtrsFrom) {
        int64_t first = 0;
        const std::vector<double> pmf = poisson_pmf(lambda_, &first);
        table_ = DiscreteSampler(first, pmf);
        return;
    }
    use_ptrs_ = true;
    slam_ = std::sqrt(lambda_);
    loglam_ = std::log(lambda_);
    b_ = 0.931 + 2.53 * slam_;
    a_ = -0.059 + 0.02483 * b_;
    inv_alpha_ = 1.1239 + 1.1328 / (b_ - 3.4);
    vr_ = 0.9277 - 3.6224 / (b_ - 2);
}

// Hörmann, "The transformed rejection method for generating Poisson random
// variables", Insurance: Mathematics and Economics 12 (1993) 39-45,
// algorithm PTRS, with its constants.
int64_t PoissonSampler::ptrs(Rng& rng) const {
    for (;;) {
        const double U = rng.uniform() - 0.5;
        const double V = rng.uniform_pos();
        const double us = 0.5 - std::fabs(U);
        const auto k = static_cast<int64_t>(std::floor((2 * a_ / us + b_) * U + lambda_ + 0.43));
        if (us >= 0.07 && V <= vr_) return k;
        if (k < 0 || (us < 0.013 && V > us)) continue;
        if (std::log(V) + std::log(inv_alpha_) - std::log(a_ / (us * us) + b_) <=
            -lambda_ + static_cast<double>(k) * loglam_ - log_factorial(k))
            return k;
    }
}

int64_t poisson(Rng& rng, double lambda) {
    if (lambda <= 0) return 0;
    if (lambda >= PoissonSampler::kPtrsFrom) return PoissonSampler(lambda)(rng);
    // Sequential inversion from 0: about lambda + 1 steps.
    const double u = rng.uniform();
    double p = std::exp(-lambda), F = p;
    int64_t k = 0;
    while (u >= F && p > 0) {
        ++k;
        p *= lambda / static_cast<double>(k);
        F += p;
    }
    return k;
}

// Marsaglia & Tsang, "A simple method for generating gamma variables", ACM
// TOMS 26 (2000) 363-372; shape < 1 through Gamma(a) = Gamma(a + 1) U^(1/a).
double gamma(Rng& rng, const Normal& normal, double shape) {
    if (shape < 1.0) return gamma(rng, normal, shape + 1.0) * std::pow(rng.uniform_pos(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = normal(rng);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const double u = rng.uniform_pos();
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
        if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return d * v;
    }
}

} // namespace sim

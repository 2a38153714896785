// Exact samplers for the simulator's hot loops: standard normal by the
// ziggurat, Poisson by table inversion (lambda < 10) or Hörmann's PTRS
// transformed rejection (lambda >= 10), gamma by Marsaglia & Tsang.
#pragma once

#include <cstdint>
#include <vector>

#include "spotflow_sim/rng.hpp"

namespace sim {

// Doornik's ZIGNOR ziggurat, "An Improved Ziggurat Method to Generate Normal
// Random Samples" (2005), with Marsaglia & Tsang's 256-layer constants. The
// layer index and the abscissa come from disjoint bits of one 64-bit draw,
// which removes the correlation of Marsaglia & Tsang's original.
struct ZigguratTables {
    static constexpr int kLayers = 256;
    double x[kLayers + 1];
    // In units of the 56-bit signed integer j the fast path draws (u = j 2^-55):
    // |j| < limit[i] puts u x[i] inside layer i's rejection-free part
    // (|u| < x[i + 1] / x[i]), and j scale[i] = u x[i].
    int64_t limit[kLayers];
    double scale[kLayers];
    ZigguratTables();
};
const ZigguratTables& ziggurat();

class Normal {
public:
    double operator()(Rng& rng) const {
        const uint64_t bits = rng.next();
        const int i = static_cast<int>(bits & (ZigguratTables::kLayers - 1));
        const int64_t j = static_cast<int64_t>(bits) >> 8; // the other 56 bits, signed
        if ((j < 0 ? -j : j) < t_.limit[i]) return static_cast<double>(j) * t_.scale[i];
        return slow(rng, i, static_cast<double>(j) * 0x1.0p-55);
    }

private:
    double slow(Rng& rng, int i, double u) const;
    const ZigguratTables& t_ = ziggurat();
};

// ln(k!), exact to double precision.
double log_factorial(int64_t k);

// A discrete distribution on first, first + 1, ..., sampled by inversion
// through a guide table indexed by the draw's top bits: in most buckets every
// u maps to one value, and no search is needed. Exact to the 53-bit
// resolution of u: mass beyond the table's last value (the caller keeps it
// below 1e-16) goes to that value.
class DiscreteSampler {
public:
    DiscreteSampler() = default;
    DiscreteSampler(int64_t first, const std::vector<double>& pmf);
    int64_t operator()(Rng& rng) const {
        const uint64_t bits = rng.next();
        const uint32_t g = guide_[bits >> (64 - kGuideBits)];
        if (g & kPure) return first_ + (g ^ kPure);
        return first_ + search(bits, g);
    }

private:
    static constexpr int kGuideBits = 11;
    static constexpr uint32_t kPure = 0x80000000u; // the bucket lies inside one value's CDF step

    int64_t search(uint64_t bits, uint32_t start) const;

    int64_t first_ = 0;
    std::vector<double> cdf_;
    std::vector<uint32_t> guide_;
};

// Poisson(lambda) for a lambda fixed in advance (the background of a frame):
// the set-up (a DiscreteSampler below kPtrsFrom, PTRS constants from it on) is
// paid once.
class PoissonSampler {
public:
    explicit PoissonSampler(double lambda);
    int64_t operator()(Rng& rng) const { return use_ptrs_ ? ptrs(rng) : table_(rng); }

    // Below this, inversion; from it on, PTRS (its constants hold for lambda >= 10).
    static constexpr double kPtrsFrom = 10.0;

private:
    int64_t ptrs(Rng& rng) const;

    double lambda_;
    bool use_ptrs_ = false;
    DiscreteSampler table_;
    // PTRS (Hörmann 1993)
    double slam_ = 0, loglam_ = 0, a_ = 0, b_ = 0, inv_alpha_ = 0, vr_ = 0;
};

// The Poisson(lambda) probabilities of first, first + 1, ..., covering all but
// under 1e-17 of the mass.
std::vector<double> poisson_pmf(double lambda, int64_t* first);

// Poisson(lambda) for a lambda used once (an emitter's pixel).
int64_t poisson(Rng& rng, double lambda);

// Gamma(shape, 1), shape > 0.
double gamma(Rng& rng, const Normal& normal, double shape);

} // namespace sim

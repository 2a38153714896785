#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "spotflow_psf/crlb.hpp"

using spotflow::psf::crlb_mortensen_px;
using spotflow::psf::integrated_gaussian_1d;

namespace {

// The table of /work/shared/reference/decode.md section 2 (s = 1.3 px,
// a = 108 nm), which agrees with a numerical Fisher-information computation
// to 0.01 nm.
TEST(Crlb, MatchesTheTabulatedMortensenBound) {
    struct Row {
        double n, b, nm, emccd_nm;
    } rows[] = {{2000, 10, 3.90, 5.52},   {2000, 50, 5.17, 7.31},   {2000, 100, 6.27, 8.86},
                {1000, 10, 6.08, 8.59},   {1000, 50, 8.86, 12.53},  {1000, 100, 11.24, 15.89},
                {500, 10, 9.82, 13.88},   {500, 50, 15.89, 22.48},  {500, 100, 20.96, 29.65}};
    for (const Row& r : rows) {
        EXPECT_NEAR(108 * crlb_mortensen_px(r.n, r.b, 1.3), r.nm, 0.01) << r.n << " " << r.b;
        // The EMCCD column is sqrt(2) x the unrounded bound, itself rounded:
        // within 0.02 nm of ours, and ours is exactly sqrt(2) x the sCMOS bound.
        EXPECT_NEAR(108 * crlb_mortensen_px(r.n, r.b, 1.3, 2.0), r.emccd_nm, 0.02) << r.n << " " << r.b;
        EXPECT_NEAR(crlb_mortensen_px(r.n, r.b, 1.3, 2.0), std::sqrt(2.0) * crlb_mortensen_px(r.n, r.b, 1.3), 1e-15);
    }
}

TEST(Crlb, IndependentOfPixelSize) {
    // decode.md: at a = 100 nm, N = 2000, b = 50 gives 4.79 nm.
    EXPECT_NEAR(100 * crlb_mortensen_px(2000, 50, 1.3), 4.79, 0.01);
}

TEST(Crlb, NoBackgroundIsThePhotonLimit) {
    EXPECT_DOUBLE_EQ(crlb_mortensen_px(100, 0, 1.0), std::sqrt((1.0 + 1.0 / 12) / 100));
    EXPECT_NEAR(108 * crlb_mortensen_px(2000, 0, 1.3), 3.22, 0.01); // decode.md
    // Continuity: a vanishing background approaches the photon limit.
    EXPECT_NEAR(crlb_mortensen_px(2000, 1e-9, 1.3), crlb_mortensen_px(2000, 0, 1.3), 1e-9);
}

// The quadrature against the integral evaluated to 40 digits with mpmath
// (quad of ln t / (1 + t/tau) over [0, 1]), through the CRLB at N = 1000,
// s = sqrt(11/12) px (so sa² = 1 and tau = 2 pi b / N). For large tau the
// denominator 1 + integral nears 0 and amplifies rounding, hence 1e-10.
TEST(Crlb, QuadratureMatchesAHighPrecisionReference) {
    const std::pair<double, double> cases[] = {{1e-5, 0.031633520956610318553}, {1e-3, 0.032033886313567431159},
                                               {0.05, 0.037908648953100131714}, {0.3, 0.051770438642431105477},
                                               {1.0, 0.075051693257684524967},  {7.0, 0.17248106467634180894},
                                               {100.0, 0.63385778308576446907}, {1e4, 6.3246958627898579899}};
    const double N = 1000, sigma = std::sqrt(11.0 / 12.0);
    for (const auto& [tau, sd] : cases)
        EXPECT_NEAR(crlb_mortensen_px(N, tau * N / (2 * M_PI), sigma), sd, 1e-10 * sd) << "tau " << tau;
}

// The Fisher information of (x, y, N, b) for the pixel-integrated Gaussian on
// a 21 x 21 region under Poisson noise, inverted: Mortensen's MLE formula is
// an approximation of this, good to about 1 % in this regime.
TEST(Crlb, AgreesWithTheFisherInformationOfThePixelatedGaussian) {
    const double s = 1.3, cx = 10.2, cy = 9.7;
    for (const auto& [N, b] : {std::pair{2000.0, 10.0}, std::pair{500.0, 100.0}, std::pair{1000.0, 50.0}}) {
        std::array<std::array<double, 4>, 4> F{};
        const double norm = 1 / (s * std::sqrt(2 * M_PI));
        auto dg = [&](double c, int k) { // d/dc of the pixel fraction
            const double a = (k - 0.5 - c) / s, z = (k + 0.5 - c) / s;
            return norm * (std::exp(-0.5 * a * a) - std::exp(-0.5 * z * z));
        };
        for (int y = 0; y < 21; ++y)
            for (int x = 0; x < 21; ++x) {
                const double gx = integrated_gaussian_1d(cx, s, x), gy = integrated_gaussian_1d(cy, s, y);
                const double mu = N * gx * gy + b;
                const double d[4] = {N * dg(cx, x) * gy, N * gx * dg(cy, y), gx * gy, 1.0};
                for (int i = 0; i < 4; ++i)
                    for (int j = 0; j < 4; ++j) F[i][j] += d[i] * d[j] / mu;
            }
        // [F^-1]_00 by Gauss-Jordan on [F | e0].
        std::array<std::array<double, 5>, 4> m{};
        for (int i = 0; i < 4; ++i) {
            for (int j = 0; j < 4; ++j) m[i][j] = F[i][j];
            m[i][4] = i == 0 ? 1 : 0;
        }
        for (int c = 0; c < 4; ++c) {
            for (int r = 0; r < 4; ++r) {
                if (r == c) continue;
                const double f = m[r][c] / m[c][c];
                for (int k = 0; k < 5; ++k) m[r][k] -= f * m[c][k];
            }
        }
        const double fisher_sd = std::sqrt(m[0][4] / m[0][0]);
        EXPECT_NEAR(crlb_mortensen_px(N, b, s) / fisher_sd, 1.0, 0.015) << N << " " << b;
    }
}

TEST(IntegratedGaussian, PixelFractionsSumToOneAndMatchErf) {
    double total = 0;
    for (int k = -30; k <= 30; ++k) total += integrated_gaussian_1d(0.3, 1.3, k);
    EXPECT_NEAR(total, 1.0, 1e-14);
    // Centred on pixel 0: the fraction in [-0.5, 0.5) is erf(0.5 / (sqrt(2) s)).
    EXPECT_NEAR(integrated_gaussian_1d(0, 1.3, 0), std::erf(0.5 / (std::sqrt(2.0) * 1.3)), 1e-15);
    EXPECT_DOUBLE_EQ(integrated_gaussian_1d(2.0, 1.0, 3), integrated_gaussian_1d(2.0, 1.0, 1)); // symmetric
    // Far tail: 12 sigma away, positive and relatively exact (erf differences would give 0).
    const double tail = integrated_gaussian_1d(0, 1.0, 12);
    const double expect = 0.5 * (std::erfc(11.5 / std::sqrt(2.0)) - std::erfc(12.5 / std::sqrt(2.0)));
    EXPECT_GT(tail, 0);
    EXPECT_NEAR(tail / expect, 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(integrated_gaussian_1d(0, 1.0, -12), tail);
}

TEST(Crlb, RejectsNonsense) {
    EXPECT_THROW(crlb_mortensen_px(0, 10, 1.3), std::invalid_argument);
    EXPECT_THROW(crlb_mortensen_px(100, -1, 1.3), std::invalid_argument);
    EXPECT_THROW(crlb_mortensen_px(100, 10, 0), std::invalid_argument);
    EXPECT_THROW(crlb_mortensen_px(100, 10, 1.3, 0), std::invalid_argument);
    EXPECT_THROW(crlb_mortensen_px(std::nan(""), 10, 1.3), std::invalid_argument);
    EXPECT_THROW(integrated_gaussian_1d(0, 0, 0), std::invalid_argument);
}

} // namespace

#include <gtest/gtest.h>

#include <cmath>

#include "spotflow_psf/crlb.hpp"

using spotflow::psf::crlb_mortensen_px;

namespace {

// The table of ../shared/reference/decode.md (s = 1.3 px, a = 108 nm),
// which agrees with a numerical Fisher-information computation to 0.01 nm.
TEST(Crlb, MatchesTheTabulatedMortensenBound) {
    struct Row { double n, b, nm; } rows[] = {{2000, 10, 3.90},  {2000, 50, 5.17},  {2000, 100, 6.27},
                                              {1000, 10, 6.08},  {1000, 50, 8.86},  {1000, 100, 11.24},
                                              {500, 10, 9.82},   {500, 50, 15.89},  {500, 100, 20.96}};
    for (const Row& r : rows) EXPECT_NEAR(108 * crlb_mortensen_px(r.n, r.b, 1.3), r.nm, 0.01) << r.n << " " << r.b;
}

TEST(Crlb, EmccdExcessNoiseWidensBySqrtTwo) {
    EXPECT_NEAR(108 * crlb_mortensen_px(2000, 10, 1.3, 2.0), 5.52, 0.01);
}

TEST(Crlb, NoBackgroundIsThePhotonLimit) {
    EXPECT_DOUBLE_EQ(crlb_mortensen_px(100, 0, 1.0), std::sqrt((1.0 + 1.0 / 12) / 100));
}

TEST(Crlb, RejectsNonsense) { EXPECT_THROW(crlb_mortensen_px(0, 10, 1.3), std::invalid_argument); }

} // namespace

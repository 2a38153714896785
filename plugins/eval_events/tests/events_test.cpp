#include <gtest/gtest.h>

#include <cmath>

#include "spotflow_tables/event_matching.hpp"

using namespace spotflow::tables::events;

namespace {

const double kNaN = std::nan("");

TEST(EventScore, PerfectDetectionScoresOne) {
    const std::vector<Event> t = {{10, 5, 5, 1}, {40, 20, 20, 0.5}};
    const Score s = score(t, t, {});
    EXPECT_EQ(s.tp, 2);
    EXPECT_EQ(s.fp, 0);
    EXPECT_EQ(s.fn, 0);
    EXPECT_DOUBLE_EQ(s.f1, 1.0);
    EXPECT_DOUBLE_EQ(s.mean_abs_onset_error, 0.0);
}

TEST(EventScore, OnsetJustOutsideTheToleranceIsOneFalsePositiveAndOneFalseNegative) {
    const Score s = score({{10, 5, 5, kNaN}}, {{13, 5, 5, kNaN}}, {2, 3.0});
    EXPECT_EQ(s.tp, 0);
    EXPECT_EQ(s.fp, 1);
    EXPECT_EQ(s.fn, 1);
    EXPECT_DOUBLE_EQ(s.f1, 0.0);
    const Score in = score({{10, 5, 5, kNaN}}, {{12, 5, 5, kNaN}}, {2, 3.0});
    EXPECT_EQ(in.tp, 1);
    EXPECT_DOUBLE_EQ(in.mean_onset_error, 2.0);
}

TEST(EventScore, AnEventAtAnotherPunctumDoesNotMatch) {
    const Score s = score({{10, 5, 5, kNaN}}, {{10, 15, 5, kNaN}}, {2, 3.0});
    EXPECT_EQ(s.tp, 0);
}

TEST(EventScore, OptimalNotGreedyPairing) {
    // Predicted onsets 11 and 13 against true 10 and 12 at one punctum:
    // greedy (11 -> 12, nearest first) leaves 13 and 10 three frames apart,
    // unmatched; the optimum pairs 11 -> 10 and 13 -> 12.
    const Score s = score({{10, 0, 0, kNaN}, {12, 0, 0, kNaN}}, {{11, 0, 0, kNaN}, {13, 0, 0, kNaN}}, {2, 3.0});
    EXPECT_EQ(s.tp, 2);
    EXPECT_DOUBLE_EQ(s.precision, 1.0);
    EXPECT_DOUBLE_EQ(s.recall, 1.0);
}

TEST(EventScore, HandComputedF1) {
    // 3 true, 4 detected, 2 matched: P = 0.5, R = 2/3, F1 = 4/7.
    const std::vector<Event> t = {{10, 0, 0, kNaN}, {50, 0, 0, kNaN}, {90, 0, 0, kNaN}};
    const std::vector<Event> p = {{11, 0, 0, kNaN}, {49, 0, 0, kNaN}, {70, 0, 0, kNaN}, {30, 0, 0, kNaN}};
    const Score s = score(t, p, {});
    EXPECT_EQ(s.tp, 2);
    EXPECT_NEAR(s.f1, 4.0 / 7.0, 1e-12);
}

} // namespace

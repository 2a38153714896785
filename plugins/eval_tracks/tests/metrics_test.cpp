// The measures on cases small enough to compute by hand (eps = 5 px unless
// said otherwise). Every expected value is derived in the comment above it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <random>

#include "evaluation.hpp"
#include "fragmentation.hpp"
#include "spotflow/plugin_error.hpp"
#include "track_lengths.hpp"
#include "tracks.hpp"

using namespace eval_tracks;

namespace {

constexpr double kEps = 5.0;

// Track `id` on frames [f0, f1], at (x0 + vx * (f - f0), y0).
std::vector<TrackRow> line(int64_t id, int64_t f0, int64_t f1, double x0, double y0, double vx = 1.0) {
    std::vector<TrackRow> rows;
    for (int64_t f = f0; f <= f1; ++f) rows.push_back({f, x0 + vx * static_cast<double>(f - f0), y0, id});
    return rows;
}

std::vector<TrackRow> operator+(std::vector<TrackRow> a, const std::vector<TrackRow>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<Track> tracks(const std::vector<TrackRow>& rows) { return build_tracks(rows, "test").tracks; }

std::vector<TrackRow> without_frames(std::vector<TrackRow> rows, std::initializer_list<int64_t> frames) {
    std::vector<TrackRow> out;
    for (const TrackRow& r : rows)
        if (std::find(frames.begin(), frames.end(), r.frame) == frames.end()) out.push_back(r);
    return out;
}

} // namespace

TEST(Challenge, PerfectTracksScoreOne) {
    const auto gt = tracks(line(1, 0, 9, 10, 10) + line(2, 0, 9, 100, 100));
    const auto est = tracks(line(7, 0, 9, 10, 10) + line(8, 0, 9, 100, 100));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_DOUBLE_EQ(s.alpha, 1.0);
    EXPECT_DOUBLE_EQ(s.beta, 1.0);
    EXPECT_DOUBLE_EQ(s.jsc, 1.0);
    EXPECT_DOUBLE_EQ(s.jsc_theta, 1.0);
    EXPECT_DOUBLE_EQ(s.rmse_px, 0.0);
    EXPECT_EQ(s.tp, 20);
    EXPECT_EQ(s.fn, 0);
    EXPECT_EQ(s.fp, 0);
    EXPECT_EQ(s.pairing, (std::vector<int64_t>{0, 1}));
    EXPECT_DOUBLE_EQ(measure_fragmentation(gt, est, kEps).mean, 1.0);
}

// GT: 10 points on frames 0-9. Predicted: the exact points, as track A on
// frames 0-4 and track B on frames 5-9.
//   d(GT, A) = eps * |9 - 4| (frames 5-9 without A) + 0 = 25; d(GT, B) = 25
//   d(GT, dummy) = eps * 10 = 50, so GT pairs with A (or B; same score)
//   alpha = 1 - 25/50 = 1/2
//   spurious: B, d(B, dummy) = eps * 5 = 25; beta = (50 - 25) / (50 + 25) = 1/3
//   TP = 5 (frames 0-4), FN = 5 (frames 5-9), FP = 5 (B's points): JSC = 5/15
//   paired 1, missed 0, spurious 1: JSC_theta = 1/2; fragmentation 2
TEST(Challenge, TrackCutInTwoHalves) {
    const auto gt = tracks(line(1, 0, 9, 10, 10));
    const auto est = tracks(line(1, 0, 4, 10, 10) + line(2, 5, 9, 15, 10));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_DOUBLE_EQ(s.paired_distance, 25.0);
    EXPECT_DOUBLE_EQ(s.gt_dummy_distance, 50.0);
    EXPECT_DOUBLE_EQ(s.spurious_dummy_distance, 25.0);
    EXPECT_DOUBLE_EQ(s.alpha, 0.5);
    EXPECT_DOUBLE_EQ(s.beta, 1.0 / 3.0);
    EXPECT_EQ(s.tp, 5);
    EXPECT_EQ(s.fn, 5);
    EXPECT_EQ(s.fp, 5);
    EXPECT_DOUBLE_EQ(s.jsc, 1.0 / 3.0);
    EXPECT_EQ(s.paired_tracks, 1);
    EXPECT_EQ(s.missed_tracks, 0);
    EXPECT_EQ(s.spurious_tracks, 1);
    EXPECT_DOUBLE_EQ(s.jsc_theta, 0.5);
    EXPECT_DOUBLE_EQ(s.rmse_px, 0.0);

    const Fragmentation f = measure_fragmentation(gt, est, kEps);
    EXPECT_DOUBLE_EQ(f.mean, 2.0);
    ASSERT_EQ(f.per_gt.size(), 1u);
    EXPECT_EQ(f.per_gt[0].matched_points, 10);
    EXPECT_EQ(f.per_gt[0].predicted_track_ids, (std::vector<int64_t>{1, 2}));
}

// A perfect track plus a spurious 4-point track far away:
//   d(X,Y) = 0: alpha = 1; beta = (50 - 0) / (50 + 4 eps) = 50/70
//   TP 10, FN 0, FP 4: JSC = 10/14; JSC_theta = 1 / (1 + 0 + 1)
TEST(Challenge, SpuriousTrackLowersBetaNotAlpha) {
    const auto gt = tracks(line(1, 0, 9, 10, 10));
    const auto est = tracks(line(1, 0, 9, 10, 10) + line(2, 3, 6, 200, 200));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_DOUBLE_EQ(s.alpha, 1.0);
    EXPECT_DOUBLE_EQ(s.beta, 50.0 / 70.0);
    EXPECT_DOUBLE_EQ(s.jsc, 10.0 / 14.0);
    EXPECT_DOUBLE_EQ(s.jsc_theta, 0.5);
}

// Every predicted point 1 px off in x (1 < eps):
//   d = 10 * 1; alpha = 1 - 10 / (10 eps) = 1 - 1/eps = 0.8 = beta
//   every point matches: JSC = 1; RMSE = sqrt(10 * 1^2 / 10) = 1
TEST(Challenge, ConstantOffsetWithinGate) {
    const auto gt = tracks(line(1, 0, 9, 10, 10));
    const auto est = tracks(line(1, 0, 9, 11, 10));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_DOUBLE_EQ(s.alpha, 1.0 - 1.0 / kEps);
    EXPECT_DOUBLE_EQ(s.beta, 1.0 - 1.0 / kEps);
    EXPECT_DOUBLE_EQ(s.jsc, 1.0);
    EXPECT_DOUBLE_EQ(s.rmse_px, 1.0);
}

// Frame 4 predicted 6 px off (> eps): that frame costs eps and is both a
// miss and a false positive. d = 5; alpha = 1 - 5/50 = 0.9; TP 9, FN 1,
// FP 1: JSC = 9/11; the RMSE is over the 9 matched points: 0. A point
// exactly eps away does not match either (the gate is strict, as in the
// reference's `ed < maxDist`).
TEST(Challenge, PointBeyondGateIsMissAndFalsePositive) {
    for (const double off : {6.0, 5.0}) {
        auto rows = line(1, 0, 9, 10, 10);
        rows[4].y += off;
        const ChallengeScore s = score_challenge(tracks(line(1, 0, 9, 10, 10)), tracks(rows), kEps);
        EXPECT_DOUBLE_EQ(s.alpha, 0.9) << off;
        EXPECT_EQ(s.tp, 9) << off;
        EXPECT_EQ(s.fn, 1) << off;
        EXPECT_EQ(s.fp, 1) << off;
        EXPECT_DOUBLE_EQ(s.jsc, 9.0 / 11.0) << off;
        EXPECT_DOUBLE_EQ(s.rmse_px, 0.0) << off;
    }
}

// GT on frames 0-2 and 5-9 at x = 10 + 2f: the importer fills frames 3 and
// 4 with virtual points at x = 16 and 18, which count as ground-truth points
// (span 10, d(X, dummy) = 50).
//  - A prediction with real points on every frame matches all 10: alpha 1, JSC 1.
//  - A prediction with the same gap has virtual points there, which never
//    match: d = 2 eps = 10, alpha = 0.8; TP 8, FN 2, FP 0, JSC 0.8.
TEST(Challenge, GapInGroundTruthIsInterpolated) {
    const auto gt_rows = without_frames(line(1, 0, 9, 10, 10, 2.0), {3, 4});
    const auto gt = tracks(gt_rows);
    ASSERT_EQ(gt.size(), 1u);
    EXPECT_EQ(gt[0].span(), 10);
    EXPECT_EQ(gt[0].real_points, 8);
    EXPECT_DOUBLE_EQ(gt[0].at(3).x, 16.0);
    EXPECT_DOUBLE_EQ(gt[0].at(4).x, 18.0);
    EXPECT_FALSE(gt[0].at(3).real);

    const ChallengeScore full = score_challenge(gt, tracks(line(5, 0, 9, 10, 10, 2.0)), kEps);
    EXPECT_DOUBLE_EQ(full.gt_dummy_distance, 50.0);
    EXPECT_DOUBLE_EQ(full.alpha, 1.0);
    EXPECT_EQ(full.tp, 10);
    EXPECT_DOUBLE_EQ(full.jsc, 1.0);

    const ChallengeScore gapped = score_challenge(gt, tracks(gt_rows), kEps);
    EXPECT_DOUBLE_EQ(gapped.alpha, 0.8);
    EXPECT_EQ(gapped.tp, 8);
    EXPECT_EQ(gapped.fn, 2);
    EXPECT_EQ(gapped.fp, 0);
    EXPECT_DOUBLE_EQ(gapped.jsc, 0.8);
}

// A gap in the prediction: its two virtual points are misses (eps each, FN)
// and never false positives. d = 10, alpha = 0.8, TP 8, FN 2, FP 0.
TEST(Challenge, GapInPredictionIsMissNeverFalsePositive) {
    const auto gt = tracks(line(1, 0, 9, 10, 10));
    const auto est = tracks(without_frames(line(1, 0, 9, 10, 10), {3, 4}));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_DOUBLE_EQ(s.alpha, 0.8);
    EXPECT_EQ(s.tp, 8);
    EXPECT_EQ(s.fn, 2);
    EXPECT_EQ(s.fp, 0);
}

// A prediction running past the end of the ground truth, with a gap there:
// GT frames 0-4, prediction frames 0-4 exact plus frame 7. Like the
// reference, the frames after the GT cost eps each and count as false
// positives by span (5, 6 virtual and 7 real): d = eps * |7 - 4| = 15,
// d(X, dummy) = 25, alpha = beta = 1 - 15/25 = 0.4; TP 5, FN 0, FP 3.
TEST(Challenge, PredictionBeyondGroundTruthSpan) {
    const auto gt = tracks(line(1, 0, 4, 10, 10));
    auto rows = line(1, 0, 4, 10, 10);
    rows.push_back({7, 17, 10, 1});
    const ChallengeScore s = score_challenge(gt, tracks(rows), kEps);
    EXPECT_DOUBLE_EQ(s.paired_distance, 15.0);
    EXPECT_DOUBLE_EQ(s.alpha, 0.4);
    EXPECT_DOUBLE_EQ(s.beta, 0.4);
    EXPECT_EQ(s.tp, 5);
    EXPECT_EQ(s.fn, 0);
    EXPECT_EQ(s.fp, 3);
    EXPECT_DOUBLE_EQ(s.jsc, 5.0 / 8.0);
}

// GT frames 0-9; the only prediction meets it at frame 9 and runs on to
// frame 30: d = eps (9 + 21) + 0 = 150 > d(GT, dummy) = 50, so the dummy
// wins. The GT track is missed, the prediction spurious:
// alpha 0, beta 0 / (50 + 22 eps) = 0, JSC 0 / (0 + 10 + 22), JSC_theta 0 / 2.
TEST(Challenge, DummyWinsOverCostlyPair) {
    const auto gt = tracks(line(1, 0, 9, 10, 10));
    const auto est = tracks(line(4, 9, 30, 19, 10));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_EQ(s.pairing, (std::vector<int64_t>{-1}));
    EXPECT_DOUBLE_EQ(s.alpha, 0.0);
    EXPECT_DOUBLE_EQ(s.beta, 0.0);
    EXPECT_EQ(s.fn, 10);
    EXPECT_EQ(s.fp, 22);
    EXPECT_DOUBLE_EQ(s.jsc, 0.0);
    EXPECT_DOUBLE_EQ(s.jsc_theta, 0.0);
    EXPECT_EQ(s.missed_tracks, 1);
    EXPECT_EQ(s.spurious_tracks, 1);
    EXPECT_TRUE(std::isnan(s.rmse_px));
}

// The pairing is optimal, not greedy. GT A at y = 0 and B at y = 3; P at
// y = 1 (1 px from A, 2 from B), Q at y = -2 (2 px from A, 5 = eps from B:
// no match). Greedy would give A-P (10) and B a dummy (50): 60. The optimum
// is A-Q (20) + B-P (20) = 40: alpha = 1 - 40/100 = 0.6,
// RMSE = sqrt((10 * 4 + 10 * 4) / 20) = 2.
TEST(Challenge, PairingIsGloballyOptimal) {
    const auto gt = tracks(line(1, 0, 9, 10, 0) + line(2, 0, 9, 10, 3));
    const auto est = tracks(line(10, 0, 9, 10, 1) + line(11, 0, 9, 10, -2));
    const ChallengeScore s = score_challenge(gt, est, kEps);
    EXPECT_EQ(s.pairing, (std::vector<int64_t>{1, 0}));
    EXPECT_DOUBLE_EQ(s.paired_distance, 40.0);
    EXPECT_DOUBLE_EQ(s.alpha, 0.6);
    EXPECT_DOUBLE_EQ(s.rmse_px, 2.0);
    EXPECT_DOUBLE_EQ(s.jsc_theta, 1.0);
}

// The gate is a parameter: with eps = 2 the 3 px offset no longer matches.
TEST(Challenge, GateIsAParameter) {
    const auto gt = tracks(line(1, 0, 9, 10, 10));
    const auto est = tracks(line(1, 0, 9, 13, 10));
    EXPECT_DOUBLE_EQ(score_challenge(gt, est, 5.0).alpha, 1.0 - 3.0 / 5.0);
    const ChallengeScore tight = score_challenge(gt, est, 2.0);
    EXPECT_DOUBLE_EQ(tight.alpha, 0.0);
    EXPECT_EQ(tight.spurious_tracks, 1);
}

// A covered by three pieces, B (far away) by none: fragmentation is the
// mean over covered ground-truth tracks, 3; B is listed with 0. In frame 5 a
// second predicted point 0.5 px from A competes with the right one (0.1 px):
// the one-to-one matching takes the closer and leaves the other unmatched.
TEST(Fragmentation, MeanOverCoveredTracks) {
    const auto gt = tracks(line(1, 0, 9, 10, 10) + line(2, 0, 9, 300, 300));
    auto pred_rows = line(21, 0, 2, 10, 10) + line(22, 3, 6, 13, 10) + line(23, 7, 9, 17, 10);
    pred_rows[5].x += 0.1;
    pred_rows.push_back({5, 15.5, 10, 99});
    const Fragmentation f = measure_fragmentation(gt, tracks(pred_rows), kEps);
    EXPECT_DOUBLE_EQ(f.mean, 3.0);
    EXPECT_EQ(f.covered_gt_tracks, 1);
    ASSERT_EQ(f.per_gt.size(), 2u);
    EXPECT_EQ(f.per_gt[0].predicted_track_ids, (std::vector<int64_t>{21, 22, 23}));
    EXPECT_EQ(f.per_gt[0].matched_points, 10);
    EXPECT_EQ(f.per_gt[1].gt_track_id, 2);
    EXPECT_TRUE(f.per_gt[1].predicted_track_ids.empty());
    EXPECT_EQ(f.per_gt[1].length, 10);
}

// Two crossing ground-truth tracks each followed by one prediction: the
// per-frame matching keeps each point with its own track, fragmentation 1.
TEST(Fragmentation, CrossingTracksStayWhole) {
    const auto gt = tracks(line(1, 0, 9, 0, 10, 2.0) + line(2, 0, 9, 18, 10, -2.0));
    const auto pred = tracks(line(5, 0, 9, 0.2, 10, 2.0) + line(6, 0, 9, 18.2, 10, -2.0));
    const Fragmentation f = measure_fragmentation(gt, pred, kEps);
    EXPECT_DOUBLE_EQ(f.mean, 1.0);
    EXPECT_EQ(f.per_gt[0].predicted_track_ids, (std::vector<int64_t>{5}));
    EXPECT_EQ(f.per_gt[1].predicted_track_ids, (std::vector<int64_t>{6}));
}

// Lengths 2, 3, 4, 10, 11, 25: short (<= 3) 2, medium (4-10) 2, long 2;
// mean 55/6, median (4 + 10) / 2 = 7.
TEST(TrackLengths, SummaryAndClasses) {
    const LengthSummary s = summarize_lengths({25, 2, 11, 4, 3, 10});
    EXPECT_EQ(s.n_tracks, 6);
    EXPECT_DOUBLE_EQ(s.mean, 55.0 / 6.0);
    EXPECT_DOUBLE_EQ(s.median, 7.0);
    EXPECT_EQ(s.n_short, 2);
    EXPECT_EQ(s.n_medium, 2);
    EXPECT_EQ(s.n_long, 2);
    EXPECT_DOUBLE_EQ(s.short_fraction, 1.0 / 3.0);
    EXPECT_EQ(summarize_lengths({1, 5, 30}).median, 5.0);
    EXPECT_TRUE(std::isnan(summarize_lengths({}).mean));
    // Interpolated points are not counted: 8 real points over a span of 10.
    EXPECT_EQ(track_lengths(tracks(without_frames(line(1, 0, 9, 0, 0), {3, 4}))), (std::vector<int64_t>{8}));
}

TEST(Tracks, MissingPositionsAsTheReferenceImporter) {
    const double nan = std::nan("");
    // Trimmed at the ends: 1 (NaN) 2 3 4 (NaN) -> frames 1-3.
    auto ends = line(1, 0, 4, 0, 0);
    ends[0].x = nan;
    ends[4].y = nan;
    // Missing inside: the track is dropped.
    auto inside = line(2, 0, 4, 50, 50);
    inside[2].x = nan;
    const TrackSet set = build_tracks(ends + inside, "test");
    ASSERT_EQ(set.tracks.size(), 1u);
    EXPECT_EQ(set.tracks[0].first_frame, 1);
    EXPECT_EQ(set.tracks[0].last_frame(), 3);
    EXPECT_EQ(set.trimmed_nan_points, 2);
    EXPECT_EQ(set.dropped_nan_tracks, 1);
}

TEST(Tracks, RefusesDuplicateAndNegativeFrames) {
    auto dup = line(3, 0, 4, 0, 0);
    dup.push_back({2, 1, 1, 3});
    try {
        build_tracks(dup, "tracks of 'a'");
        FAIL() << "no error";
    } catch (const spotflow::PluginError& e) {
        EXPECT_STREQ(e.what(), "tracks of 'a': track 3 has two points in frame 2");
    }
    EXPECT_THROW(build_tracks({{-1, 0, 0, 1}}, "t"), spotflow::PluginError);
}

TEST(Tracks, MinLengthFilterCountsRealPoints) {
    const auto all = tracks(line(1, 0, 1, 0, 0) + without_frames(line(2, 0, 4, 9, 9), {1, 2, 3}) + line(3, 0, 2, 5, 5));
    const auto kept = keep_min_length(all, 3);
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].id, 3);
}

// Random walks in 512 x 512 px, cut by a synthetic tracker into pieces of
// 1-10 points with 0.5 px noise, plus one spurious 1-3 point track per five
// pieces. Prints the time to evaluate; the bound only catches a blow-up.
TEST(Performance, DenseMoviesEvaluateQuickly) {
    for (const int n_gt : {20, 150}) {
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> pos(0, 512);
        std::normal_distribution<double> step(0, 1.5), noise(0, 0.5);
        std::uniform_int_distribution<int> piece(1, 10), spurious_len(1, 3);
        std::vector<TrackRow> gt_rows, pred_rows;
        int64_t next_id = 0;
        for (int k = 0; k < n_gt; ++k) {
            double x = pos(rng), y = pos(rng);
            int left = 0;
            for (int64_t f = 0; f < 100; ++f) {
                gt_rows.push_back({f, x, y, k});
                if (left-- <= 0) {
                    left = piece(rng) - 1;
                    ++next_id;
                }
                pred_rows.push_back({f, x + noise(rng), y + noise(rng), next_id});
                x += step(rng);
                y += step(rng);
            }
        }
        const int64_t pieces = next_id;
        for (int64_t s = 0; s < pieces / 5; ++s) {
            const double x = pos(rng), y = pos(rng);
            const int64_t f0 = std::uniform_int_distribution<int64_t>(0, 97)(rng);
            const int len = spurious_len(rng);
            const int64_t id = 1000000 + s;
            for (int i = 0; i < len; ++i) pred_rows.push_back({f0 + i, x, y, id});
        }
        const GroundTruth truth = make_ground_truth(tracks(gt_rows));
        auto pred = tracks(pred_rows);
        const size_t n_pred = pred.size();
        const auto t0 = std::chrono::steady_clock::now();
        const Evaluation e = evaluate(truth, std::move(pred), kEps);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cout << n_gt << " GT tracks x 100 frames, " << n_pred << " predicted tracks: " << s * 1e3
                  << " ms (alpha " << e.challenge.alpha << ", fragmentation " << e.fragmentation.mean << ")\n";
        EXPECT_EQ(e.challenge.paired_tracks, n_gt);
        EXPECT_GT(e.fragmentation.mean, 5.0);
        EXPECT_LT(s, 20.0);
    }
}

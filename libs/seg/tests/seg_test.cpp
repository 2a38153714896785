// Known answers, worked by hand, for every score of libs/seg.
#include "spotflow_seg/seg.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>

namespace seg = spotflow::seg;

TEST(Pixels, ConfusionCountsOnlyValidPixels) {
    const int8_t truth[] = {1, 1, 0, 0, -1, -1, 1, 0};
    const uint8_t pred[] = {1, 0, 1, 0, 1, 0, 1, 1};
    const seg::Confusion c = seg::confusion(pred, truth, 8);
    EXPECT_EQ(c.tp, 2);
    EXPECT_EQ(c.fp, 2);
    EXPECT_EQ(c.fn, 1);
    EXPECT_EQ(c.tn, 1);
    EXPECT_EQ(c.valid(), 6);
    const seg::PixelScores s = seg::scores(c);
    EXPECT_DOUBLE_EQ(s.precision, 0.5);
    EXPECT_DOUBLE_EQ(s.recall, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.f1, 4.0 / 7.0);
    EXPECT_DOUBLE_EQ(s.dice, 4.0 / 7.0);
    EXPECT_DOUBLE_EQ(s.iou, 2.0 / 5.0);
    EXPECT_DOUBLE_EQ(s.accuracy, 0.5);
    EXPECT_EQ(s.n_valid, 6);
    // Whatever is predicted at ignored pixels changes nothing.
    const uint8_t pred2[] = {1, 0, 1, 0, 0, 1, 1, 1};
    const seg::Confusion c2 = seg::confusion(pred2, truth, 8);
    EXPECT_EQ(c2.tp, c.tp);
    EXPECT_EQ(c2.fp, c.fp);
}

TEST(Pixels, ThresholdedProbabilitiesAndAccumulation) {
    const int8_t truth[] = {1, 0, 1, -1};
    const float prob[] = {0.5f, 0.49f, 0.2f, 0.99f};
    seg::Confusion c = seg::confusion(prob, 0.5f, truth, 4); // 0.5 >= 0.5 counts as foreground
    EXPECT_EQ(c.tp, 1);
    EXPECT_EQ(c.tn, 1);
    EXPECT_EQ(c.fn, 1);
    EXPECT_EQ(c.fp, 0);
    c += c;
    EXPECT_EQ(c.valid(), 6);
}

TEST(Pixels, ZeroDivisionGivesZero) {
    const seg::PixelScores s = seg::scores(seg::Confusion{});
    EXPECT_EQ(s.precision, 0);
    EXPECT_EQ(s.recall, 0);
    EXPECT_EQ(s.f1, 0);
    EXPECT_EQ(s.iou, 0);
}

TEST(Pixels, BadInputThrows) {
    const int8_t bad[] = {1, 2};
    const uint8_t pred[] = {1, 1};
    EXPECT_THROW(seg::confusion(pred, bad, 2), std::invalid_argument);
    const int8_t truth[] = {1, 0};
    const float nanp[] = {NAN, 0.1f};
    EXPECT_THROW(seg::confusion(nanp, 0.5f, truth, 2), std::invalid_argument);
    EXPECT_THROW(seg::roc_auc(nanp, truth, 2), std::invalid_argument);
    // NaN at an ignored pixel is allowed (never looked at).
    const int8_t ign[] = {-1, 0};
    EXPECT_NO_THROW(seg::confusion(nanp, 0.5f, ign, 2));
}

TEST(Auc, MannWhitneyWithTies) {
    // Positives 0.9 0.8 0.5, negatives 0.7 0.5 0.1: pairs won 3 + 3 + (0.5 tie + 1) = 7.5 of 9.
    const float s[] = {0.9f, 0.8f, 0.5f, 0.7f, 0.5f, 0.1f, 1.0f};
    const int8_t t[] = {1, 1, 1, 0, 0, 0, -1};
    EXPECT_DOUBLE_EQ(seg::roc_auc(s, t, 7), 7.5 / 9.0);
    // All scores equal: 0.5.
    const float same[] = {0.3f, 0.3f, 0.3f};
    const int8_t t2[] = {1, 0, 0};
    EXPECT_DOUBLE_EQ(seg::roc_auc(same, t2, 3), 0.5);
    // Perfect and reversed.
    const float sep[] = {0.9f, 0.1f};
    const int8_t t3[] = {1, 0};
    const int8_t t4[] = {0, 1};
    EXPECT_DOUBLE_EQ(seg::roc_auc(sep, t3, 2), 1.0);
    EXPECT_DOUBLE_EQ(seg::roc_auc(sep, t4, 2), 0.0);
    // One class only: undefined.
    const int8_t t5[] = {1, 1};
    EXPECT_TRUE(std::isnan(seg::roc_auc(sep, t5, 2)));
}

TEST(Auc, MatchesBruteForceAndAccumulates) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> lev(0, 9); // coarse scores: many ties
    std::vector<float> s(400);
    std::vector<int8_t> t(400);
    for (size_t i = 0; i < s.size(); ++i) {
        t[i] = static_cast<int8_t>(static_cast<int>(rng() % 3) - 1);
        s[i] = static_cast<float>(lev(rng)) / 10.0f + (t[i] == 1 ? 0.15f : 0.0f);
    }
    double won = 0, pairs = 0;
    for (size_t i = 0; i < s.size(); ++i)
        for (size_t j = 0; j < s.size(); ++j)
            if (t[i] == 1 && t[j] == 0) {
                pairs += 1;
                won += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
            }
    seg::RocAuc acc;
    acc.add(s.data(), t.data(), 200);
    acc.add(s.data() + 200, t.data() + 200, 200);
    EXPECT_NEAR(acc.auc(), won / pairs, 1e-12);
    EXPECT_NEAR(seg::roc_auc(s.data(), t.data(), s.size()), won / pairs, 1e-12);
}

TEST(Components, FourVersusEightConnectivity) {
    // 1 0 0 0
    // 0 1 0 1
    // 0 0 0 1
    const uint8_t m[] = {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1};
    const seg::Components four = seg::label_components(m, 4, 3, seg::Connectivity::Four);
    EXPECT_EQ(four.count, 3);
    EXPECT_EQ(four.label[0], 1);
    EXPECT_EQ(four.label[5], 2);
    EXPECT_EQ(four.label[7], 3);
    EXPECT_EQ(four.label[11], 3);
    const seg::Components eight = seg::label_components(m, 4, 3, seg::Connectivity::Eight);
    EXPECT_EQ(eight.count, 2);
    EXPECT_EQ(eight.label[5], 1);
    EXPECT_EQ(eight.label[7], 2);
}

TEST(Components, BlobCentres) {
    // A 3x3 square at columns 2..4, rows 1..3 of a 6x5 image: centre (3, 2).
    std::vector<uint8_t> m(30, 0);
    for (int y = 1; y <= 3; ++y)
        for (int x = 2; x <= 4; ++x) m[static_cast<size_t>(y * 6 + x)] = 1;
    const seg::Components c = seg::label_components(m.data(), 6, 5);
    const auto b = seg::blobs(c);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].area, 9);
    EXPECT_DOUBLE_EQ(b[0].x, 3.0);
    EXPECT_DOUBLE_EQ(b[0].y, 2.0);
    EXPECT_EQ(b[0].x_min, 2);
    EXPECT_EQ(b[0].y_max, 3);
    // Weighted: weight 3 at (4, 1), 1 elsewhere: x = (27 + 2*4)/11, y = (18 + 2*1)/11.
    std::vector<float> w(30, 1.0f);
    w[1 * 6 + 4] = 3.0f;
    const auto bw = seg::blobs(c, w.data());
    EXPECT_DOUBLE_EQ(bw[0].x, (27.0 + 2 * 4) / 11.0);
    EXPECT_DOUBLE_EQ(bw[0].y, (18.0 + 2 * 1) / 11.0);
    EXPECT_DOUBLE_EQ(bw[0].max_weight, 3.0);
    // From a probability map with a minimum area: the lone pixel is dropped.
    std::vector<float> p(30, 0.0f);
    for (size_t i = 0; i < 30; ++i) p[i] = m[i] ? 0.8f : 0.0f;
    p[0] = 0.9f; // (0, 0): not touching the square
    const auto bc = seg::blob_centres(p.data(), 6, 5, 0.5f, 2);
    ASSERT_EQ(bc.size(), 1u);
    EXPECT_DOUBLE_EQ(bc[0].x, 3.0);
    EXPECT_EQ(seg::blob_centres(p.data(), 6, 5, 0.5f, 1).size(), 2u);
}

TEST(Points, OptimalMatchingWithinRadius) {
    // Greedy nearest-first would pair B with X (0.9) and leave A and Y
    // alone; the optimum pairs A-X (1.0) and B-Y (1.1).
    seg::Points pred{{}, {0.0, 1.9, 40.0}, {0.0, 0.0, 40.0}};
    seg::Points truth{{}, {1.0, 3.0}, {0.0, 0.0}};
    const seg::PointMatch m = seg::match_points(pred, truth, 1.2);
    EXPECT_EQ(m.tp, 2);
    EXPECT_EQ(m.fp, 1);
    EXPECT_EQ(m.fn, 0);
    EXPECT_EQ(m.pred_to_true[0], 0);
    EXPECT_EQ(m.pred_to_true[1], 1);
    EXPECT_EQ(m.pred_to_true[2], -1);
    EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(m.recall, 1.0);
    EXPECT_DOUBLE_EQ(m.f1, 0.8);
    EXPECT_NEAR(m.mean_distance, 1.05, 1e-12);
    // Exactly at the radius is not a match; other images never match.
    seg::Points a{{0}, {0.0}, {0.0}}, b{{0}, {2.0}, {0.0}}, c{{1}, {0.5}, {0.0}};
    EXPECT_EQ(seg::match_points(a, b, 2.0).tp, 0);
    EXPECT_EQ(seg::match_points(a, c, 2.0).tp, 0);
    EXPECT_THROW(seg::match_points(a, b, 0.0), std::invalid_argument);
}

TEST(Instances, IouAndApAtThresholds) {
    // One row of 20 pixels, truth T1 = [0,4), T2 = [10,14); prediction
    // P1 = [0,4) (IoU 1), P2 = [12,16) (IoU 2/6), P3 = pixel 19 (nothing).
    std::vector<int32_t> tl(20, 0), pl(20, 0);
    for (int i = 0; i < 4; ++i) tl[static_cast<size_t>(i)] = 1, pl[static_cast<size_t>(i)] = 1;
    for (int i = 10; i < 14; ++i) tl[static_cast<size_t>(i)] = 2;
    for (int i = 12; i < 16; ++i) pl[static_cast<size_t>(i)] = 2;
    pl[19] = 3;
    const seg::Components t = seg::from_labels(tl.data(), 20, 1), p = seg::from_labels(pl.data(), 20, 1);
    const auto ov = seg::overlaps(p, t);
    ASSERT_EQ(ov.size(), 2u);
    EXPECT_DOUBLE_EQ(ov[0].iou, 1.0);
    EXPECT_DOUBLE_EQ(ov[1].iou, 2.0 / 6.0);
    const auto m = seg::match_instances(p, t, std::vector<double>{0.5, 0.3});
    EXPECT_EQ(m[0].tp, 1);
    EXPECT_EQ(m[0].fp, 2);
    EXPECT_EQ(m[0].fn, 1);
    EXPECT_DOUBLE_EQ(m[0].ap, 0.25);
    EXPECT_EQ(m[1].tp, 2);
    EXPECT_DOUBLE_EQ(m[1].ap, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(m[1].mean_matched_iou, (1.0 + 1.0 / 3.0) / 2.0);
    EXPECT_EQ(m[1].pred_to_true[2], 2);
    EXPECT_EQ(m[1].pred_to_true[3], 0);
    // Perfect segmentation: AP 1 at every DSB threshold.
    EXPECT_DOUBLE_EQ(seg::mean_ap(seg::match_instances(t, t, seg::dsb_thresholds())), 1.0);
    // Nothing at all: undefined.
    std::vector<int32_t> z(20, 0);
    const seg::Components e = seg::from_labels(z.data(), 20, 1);
    EXPECT_TRUE(std::isnan(seg::match_instances(e, e, 0.5).ap));
}

TEST(Instances, MostMatchesBeforeLargestIou) {
    // T1 = [0,10), T2 = [10,20); P2 = [0,2), P1 = [2,14).
    // IoU(P1,T1) = 8/14, IoU(P1,T2) = 4/18, IoU(P2,T1) = 2/10. At t = 0.2 the
    // best single pair is P1-T1, but P1-T2 + P2-T1 matches both.
    std::vector<int32_t> tl(20, 0), pl(20, 0);
    for (int i = 0; i < 20; ++i) tl[static_cast<size_t>(i)] = i < 10 ? 1 : 2;
    for (int i = 0; i < 14; ++i) pl[static_cast<size_t>(i)] = i < 2 ? 2 : 1;
    const seg::Components t = seg::from_labels(tl.data(), 20, 1), p = seg::from_labels(pl.data(), 20, 1);
    const seg::InstanceMatch m = seg::match_instances(p, t, 0.2);
    EXPECT_EQ(m.tp, 2);
    EXPECT_DOUBLE_EQ(m.ap, 1.0);
    EXPECT_EQ(m.pred_to_true[1], 2);
    EXPECT_EQ(m.pred_to_true[2], 1);
    // At t = 0.5 only P1-T1 qualifies.
    const seg::InstanceMatch h = seg::match_instances(p, t, 0.5);
    EXPECT_EQ(h.tp, 1);
    EXPECT_DOUBLE_EQ(h.ap, 1.0 / 3.0);
    EXPECT_THROW(seg::match_instances(p, t, 0.0), std::invalid_argument);
    std::vector<int32_t> small(10, 0);
    EXPECT_THROW(seg::overlaps(p, seg::from_labels(small.data(), 10, 1)), std::invalid_argument);
}

// train.hybrid's calcium target (calcium_target.hpp) and the reason the
// first shipped joint recipe called every punctum-frame "active": its
// training windows (calcium_event_rate 0.08 after a 10-frame burn-in) are
// active far more often than sim.tirf's movies (event_rate 0.01), and
// loss.bce's pos_weight 5 moved the optimum further, so a head that has not
// learnt the calcium decision sits at logit(prior) + ln(pos_weight) > 0 at
// every punctum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "calcium_target.hpp"
#include "spotflow_sim/params.hpp"
#include "spotflow_sim/rng.hpp"
#include "spotflow_sim/simulator.hpp"

using namespace train_hybrid;

namespace {

// Fraction of visible punctum-frames that are calcium-active (eval.calcium's
// definition), over frames [from, num_frames) of movies of params p.
double active_fraction(sim::SimParams p, int64_t from, int movies, uint64_t seed, bool random_count = false) {
    int64_t n = 0, active = 0;
    p.calcium.enabled = true;
    p.chunk_frames = p.num_frames;
    for (int m = 0; m < movies; ++m) {
        std::mt19937_64 rng(seed + static_cast<uint64_t>(m));
        if (random_count) p.num_tracks = std::uniform_int_distribution<int64_t>(1, 6)(rng);
        sim::MovieSimulator s(p, seed + static_cast<uint64_t>(m));
        const sim::Chunk c = s.next_chunk();
        for (const auto& r : c.truth) {
            if (r.frame < from) continue;
            ++n;
            active += calcium_active(s.events(), r.track_id, r.frame, p.calcium.rise_frames, 0.5);
        }
    }
    return n ? static_cast<double>(active) / static_cast<double>(n) : 0.0;
}

double logit(double p) { return std::log(p / (1 - p)); }
double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

} // namespace

TEST(CalciumTarget, DiscsActiveWinsAndBackgroundIgnored) {
    std::vector<float> t(8 * 8);
    calcium_target({{2, 2, false}, {3, 2, true}}, 8, 1.0, true, t.data());
    EXPECT_EQ(t[2 * 8 + 1], 0.0f);  // inactive disc only
    EXPECT_EQ(t[2 * 8 + 2], 1.0f);  // both discs: active wins
    EXPECT_EQ(t[2 * 8 + 4], 1.0f);
    EXPECT_EQ(t[7 * 8 + 7], -1.0f); // far from both: ignored
    EXPECT_EQ(t[0], -1.0f);
    calcium_target({{2, 2, false}}, 8, 1.0, false, t.data());
    EXPECT_EQ(t[7 * 8 + 7], 0.0f);
}

TEST(CalciumTarget, ActiveFromOnsetToHalfDecay) {
    sim::CalciumEvent e;
    e.track_id = 4;
    e.onset_frame = 10;
    e.amplitude_dff = 1.0;
    e.decay_frames = 8;
    // rise 2: dF/F0 0, 0.5, 1 at frames 10, 11, 12; >= 0.5 from 11 to 12 + 8 ln 2 = 17.5.
    EXPECT_FALSE(calcium_active({e}, 4, 10, 2, 0.5));
    EXPECT_TRUE(calcium_active({e}, 4, 11, 2, 0.5));
    EXPECT_TRUE(calcium_active({e}, 4, 17, 2, 0.5));
    EXPECT_FALSE(calcium_active({e}, 4, 18, 2, 0.5));
    EXPECT_FALSE(calcium_active({e}, 5, 12, 2, 0.5));
}

// The always-on head: the prior of the old training windows against the
// movie's, and where an uninformed head ends up under each recipe's loss.
TEST(CalciumTarget, TrainingPriorAgainstTheMovie) {
    sim::SimParams w;                 // train.hybrid's windows
    w.image_size = 32;
    w.num_frames = 10 + 5;            // burn_in_frames + 5
    w.mean_lifetime_frames = 0;
    w.boundary = sim::Boundary::Reflect;
    w.calcium.event_rate = 0.08;      // the shipped calcium_event_rate
    const double train = active_fraction(w, 12, 400, 11, true); // the centre frame
    sim::SimParams m;                 // sim.tirf's defaults (calcium_hybrid_scores.json's movie)
    m.image_size = 64;
    const double movie = active_fraction(m, 0, 4, 21);
    std::printf("active punctum-frames: training windows %.3f, sim.tirf movie %.3f\n", train, movie);
    EXPECT_GT(train, 3 * movie);
    // An uninformed head minimises BCE with pos_weight w at logit(prior) + ln w.
    const double old_head = sigmoid(logit(train) + std::log(5.0));
    std::printf("uninformed head: old recipe (pos_weight 5) %.3f; pos_weight 1 %.3f; movie prior %.3f\n", old_head,
                sigmoid(logit(train)), movie);
    EXPECT_GT(old_head, 0.5); // "event" everywhere
}

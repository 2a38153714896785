// sim.tirf as a node: its descriptor, determinism, chunking, the truth
// table's contents, the optional calcium ports and its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

#include "sim_support.hpp"

namespace {

using namespace simtest;
using nlohmann::json;

const json kSmall = {{"num_frames", 20}, {"image_size", 48}, {"num_tracks", 6}};

TEST(SimTirf, DescribesItself) {
    const auto& d = tirf();
    EXPECT_STREQ(d.kind, "source");
    EXPECT_EQ(d.n_inputs, 0u);
    ASSERT_EQ(d.n_outputs, 4u);
    const char* names[] = {"movie", "truth", "calcium", "events"};
    const char* types[] = {SPOTFLOW_TYPE_MOVIE, SPOTFLOW_TYPE_TRACKS, SPOTFLOW_TYPE_MOVIE, SPOTFLOW_TYPE_EVENTS};
    for (int i = 0; i < 4; ++i) {
        EXPECT_STREQ(d.outputs[i].name, names[i]);
        EXPECT_STREQ(d.outputs[i].type, types[i]);
    }
    EXPECT_EQ(d.outputs[2].flags & SPOTFLOW_PORT_OPTIONAL, SPOTFLOW_PORT_OPTIONAL);
    for (const auto* desc : {&tirf(), &dataset()}) {
        const auto schema = json::parse(desc->params_schema);
        EXPECT_EQ(schema.at("additionalProperties"), false);
        for (const auto& [name, prop] : schema.at("properties").items()) {
            EXPECT_TRUE(prop.contains("description")) << name;
            EXPECT_TRUE(prop.contains("default")) << name;
        }
    }
    // The seed's defaults and the CLI's flag names.
    const auto p = params(dataset());
    EXPECT_EQ(p.at("num_samples"), 200);
    EXPECT_EQ(p.at("num_tracks"), 20);
    EXPECT_EQ(p.at("num_frames"), 100);
    EXPECT_EQ(p.at("image_size"), 256);
    EXPECT_EQ(p.at("photons"), 2000);
    EXPECT_EQ(p.at("seed"), -1);
    EXPECT_EQ(dataset().n_outputs, 0u);
}

TEST(SimTirf, SameSeedIsBitIdenticalAndAnotherSeedDiffers) {
    json o = kSmall;
    o["seed"] = 7;
    const SimRun a = run_tirf(o), b = run_tirf(o);
    ASSERT_TRUE(a.error.empty()) << a.error;
    EXPECT_EQ(a.movie, b.movie);
    EXPECT_EQ(a.truth, b.truth);
    o["seed"] = 8;
    const SimRun c = run_tirf(o);
    EXPECT_NE(a.movie, c.movie);
    EXPECT_NE(a.truth, c.truth);
}

TEST(SimTirf, SeedMinusOneUsesTheHostSeed) {
    // The fake host's seed is 42; the plugin keeps 63 bits of it.
    json o = kSmall;
    o["seed"] = -1;
    const SimRun from_host = run_tirf(o);
    o["seed"] = 21;
    EXPECT_EQ(from_host.movie, run_tirf(o).movie);
}

TEST(SimTirf, PsfSigmaInNanometresConvertsThroughThePixelSize) {
    json o = kSmall;
    o["seed"] = 10;
    o["psf_sigma_px"] = 2.0;
    const SimRun px = run_tirf(o);
    o["psf_sigma_px"] = 1.3;
    o["psf_sigma_nm"] = 216; // 2 px of 108 nm
    const SimRun nm = run_tirf(o);
    ASSERT_TRUE(nm.error.empty()) << nm.error;
    EXPECT_EQ(nm.movie, px.movie);
}

TEST(SimTirf, ChunksCarryOffsetsAndCalibrationAndDoNotChangeTheMovie) {
    json o = kSmall;
    o["seed"] = 3;
    o["chunk_frames"] = 7;
    const SimRun chunked = run_tirf(o);
    ASSERT_TRUE(chunked.error.empty()) << chunked.error;
    ASSERT_EQ(chunked.movie_info.size(), 3u);
    const int64_t offsets[] = {0, 7, 14}, counts[] = {7, 7, 6};
    for (size_t i = 0; i < 3; ++i) {
        for (const auto* info : {&chunked.movie_info[i], &chunked.truth_info[i]}) {
            EXPECT_EQ(info->frame_offset, offsets[i]);
            EXPECT_EQ(info->frame_count, counts[i]);
            EXPECT_EQ(info->total_frames, 20);
            EXPECT_DOUBLE_EQ(info->pixel_size_nm, 108);
            EXPECT_DOUBLE_EQ(info->frame_interval_s, 0.05);
            EXPECT_EQ(info->channel, 0);
        }
    }
    for (const Row& r : chunked.truth) {
        const size_t chunk = static_cast<size_t>(r.frame / 7);
        EXPECT_GE(r.frame, chunked.truth_info[chunk].frame_offset);
    }
    EXPECT_EQ(chunked.movie.size(), 20u * 48 * 48);
    EXPECT_EQ(chunked.ports, (std::vector<int32_t>{0, 1, 0, 1, 0, 1}));
    o["chunk_frames"] = 20;
    const SimRun whole = run_tirf(o);
    EXPECT_EQ(whole.movie, chunked.movie);
    EXPECT_EQ(whole.truth, chunked.truth);
}

TEST(SimTirf, TruthHoldsExactlyTheVisibleEmittersInsideTheImage) {
    // One bright emitter that blinks often, on a camera without noise or
    // background: a frame has signal exactly when truth has its row.
    const SimRun r = run_tirf({{"num_frames", 200}, {"image_size", 24}, {"num_tracks", 1}, {"seed", 5},
                            {"background", 0}, {"read_noise_e", 0}, {"blink_off_probability", 0.3},
                            {"blink_on_probability", 0.3}, {"photons", 3000}, {"photons_cv", 0}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::set<int64_t> listed;
    for (const Row& row : r.truth) {
        EXPECT_TRUE(listed.insert(row.frame).second) << "two rows in frame " << row.frame;
        EXPECT_EQ(row.track_id, 0);
        EXPECT_GE(row.x, 4.0);
        EXPECT_LE(row.x, 19.0);
        EXPECT_GE(row.y, 4.0);
        EXPECT_LE(row.y, 19.0);
        EXPECT_GT(row.photons, 2500);
    }
    EXPECT_GT(listed.size(), 60u);
    EXPECT_LT(listed.size(), 140u);
    for (int64_t t = 0; t < 200; ++t) {
        const auto begin = r.movie.begin() + t * 24 * 24;
        const bool dark = std::all_of(begin, begin + 24 * 24, [](uint16_t v) { return v == 100; });
        EXPECT_EQ(dark, listed.count(t) == 0) << "frame " << t;
    }
}

TEST(SimTirf, TruthIsSortedByFrameThenTrackAndStaysInsideTheMargin) {
    const SimRun r = run_tirf({{"num_frames", 60}, {"image_size", 40}, {"num_tracks", 15}, {"seed", 11},
                            {"directed_fraction", 1.0}, {"speed_px_per_frame", 1.5}, {"margin_px", 2}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    for (size_t i = 1; i < r.truth.size(); ++i) {
        const Row &a = r.truth[i - 1], &b = r.truth[i];
        EXPECT_TRUE(a.frame < b.frame || (a.frame == b.frame && a.track_id < b.track_id)) << i;
    }
    for (const Row& row : r.truth) {
        EXPECT_GE(std::min(row.x, row.y), 2.0);
        EXPECT_LE(std::max(row.x, row.y), 37.0);
    }
}

TEST(SimTirf, BoundaryEndLetsTracksLeaveAndEnds) {
    const SimRun r = run_tirf({{"num_frames", 80}, {"image_size", 32}, {"num_tracks", 20}, {"seed", 2},
                            {"directed_fraction", 1.0}, {"speed_px_per_frame", 1.0}, {"boundary", "end"},
                            {"blink_off_probability", 0}});
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::map<int64_t, int64_t> last_frame, per_frame;
    for (const Row& row : r.truth) {
        EXPECT_GE(std::min(row.x, row.y), -0.5);
        EXPECT_LT(std::max(row.x, row.y), 31.5);
        last_frame[row.track_id] = std::max(last_frame[row.track_id], row.frame);
        ++per_frame[row.frame];
    }
    EXPECT_EQ(per_frame[0], 20);
    // At 1 px per frame every track crosses a 32 px image within 80 frames.
    EXPECT_EQ(per_frame.count(79), 0u);
    for (const auto& [track, last] : last_frame) EXPECT_LT(last, 79) << track;
}

TEST(SimTirf, CalciumAddsTheChannelAndItsEventsWithoutChangingThePuncta) {
    json o = kSmall;
    o["seed"] = 4;
    const SimRun plain = run_tirf(o);
    EXPECT_EQ(std::count(plain.ports.begin(), plain.ports.end(), 2), 0);
    EXPECT_EQ(std::count(plain.ports.begin(), plain.ports.end(), 3), 0);
    o["calcium"] = true;
    o["event_rate"] = 0.2;
    const SimRun ca = run_tirf(o);
    ASSERT_TRUE(ca.error.empty()) << ca.error;
    EXPECT_EQ(ca.movie, plain.movie);
    EXPECT_EQ(ca.truth, plain.truth);
    EXPECT_EQ(ca.calcium.size(), ca.movie.size());
    EXPECT_NE(ca.calcium, ca.movie);
    ASSERT_EQ(ca.calcium_info.size(), 2u);
    EXPECT_EQ(ca.calcium_info[1].frame_offset, 16);
    EXPECT_EQ(ca.calcium_info[1].channel, 1);
    ASSERT_EQ(ca.event_info.size(), 1u);
    EXPECT_EQ(ca.ports.back(), 3);
    EXPECT_FALSE(ca.events.empty());
    for (const Event& e : ca.events) {
        EXPECT_GE(e.track_id, 0);
        EXPECT_LT(e.track_id, 6);
        EXPECT_GE(e.onset_frame, 0);
        EXPECT_LT(e.onset_frame, 20);
        EXPECT_EQ(e.peak_frame, e.onset_frame + 2);
        EXPECT_GE(e.amplitude_dff, 0.5);
        EXPECT_LE(e.amplitude_dff, 2.0);
        EXPECT_DOUBLE_EQ(e.decay_frames, 8);
    }
}

struct BadParam {
    std::string name;
    json overrides;
    std::string error;
};

void PrintTo(const BadParam& b, std::ostream* os) { *os << b.overrides.dump(); }

class SimTirfBadParams : public ::testing::TestWithParam<BadParam> {};

TEST_P(SimTirfBadParams, AreRefusedAtCreateWithOneLineNamingTheParam) {
    FakeHost host;
    NodeRunner node(tirf(), host, params(tirf(), GetParam().overrides).dump());
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, SimTirfBadParams,
    ::testing::Values(
        BadParam{"image_size_zero", {{"image_size", 0}}, "param 'image_size' must be in [1, 16384], got 0"},
        BadParam{"photons_negative", {{"photons", -5}}, "param 'photons' must be in [0, 100000000], got -5"},
        BadParam{"camera_unknown", {{"camera", "ccd"}}, "param 'camera' must be one of scmos, emccd, got 'ccd'"},
        BadParam{"margin_too_wide", {{"image_size", 8}},
                 "param 'margin_px' 4 leaves no room for emitters in a 8 px image"},
        BadParam{"frames_not_integer", {{"num_frames", "ten"}}, "param 'num_frames' must be an integer, got \"ten\""},
        BadParam{"amplitudes_swapped", {{"amplitude_dff_min", 3}},
                 "param 'amplitude_dff_max' (2) is below amplitude_dff_min (3)"},
        BadParam{"qe_above_one", {{"qe", 1.5}}, "param 'qe' must be in (0, 1], got 1.5"},
        BadParam{"photons_null", {{"photons", nullptr}}, "param 'photons' must be a number, got null"},
        BadParam{"directed_and_confined", {{"directed_fraction", 0.6}, {"confined_fraction", 0.5}},
                 "param 'confined_fraction' (0.5) plus directed_fraction (0.6) exceeds 1: a track is directed or confined, not both"},
        BadParam{"radius_zero", {{"confinement_radius_px", 0}}, "param 'confinement_radius_px' must be > 0, got 0"}),
    [](const ::testing::TestParamInfo<BadParam>& i) { return i.param.name; });

} // namespace

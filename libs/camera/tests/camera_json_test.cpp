#include <gtest/gtest.h>

#include <stdexcept>

#include "spotflow_camera/camera_json.hpp"

using spotflow::camera::Kind;
using spotflow::camera::parse_camera;

namespace {
std::string error_of(const char* text) {
    try {
        parse_camera(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST(CameraJson, DefaultsToEstimating) {
    EXPECT_TRUE(parse_camera(nlohmann::json()).estimate);
    EXPECT_TRUE(parse_camera(nlohmann::json::object()).estimate);
    const auto s = parse_camera(nlohmann::json::parse(R"({"kind": "emccd", "e_per_adu": 20, "em_gain": 100})"));
    EXPECT_FALSE(s.estimate);
    EXPECT_EQ(s.camera.kind, Kind::Emccd);
    EXPECT_DOUBLE_EQ(s.camera.adu_per_electron(), 5.0);
    EXPECT_DOUBLE_EQ(s.camera.ptc_slope(), 10.0);
}

TEST(CameraJson, ImpossibleNumbersNameTheField) {
    EXPECT_NE(error_of(R"({"kind": "scmos", "e_per_adu": 0})").find("camera.e_per_adu"), std::string::npos);
    EXPECT_NE(error_of(R"({"kind": "scmos", "e_per_adu": -2})").find("camera.e_per_adu"), std::string::npos);
    EXPECT_NE(error_of(R"({"kind": "emccd", "em_gain": 0})").find("camera.em_gain"), std::string::npos);
    EXPECT_NE(error_of(R"({"kind": "scmos", "qe": 1.5})").find("camera.qe"), std::string::npos);
    EXPECT_NE(error_of(R"({"kind": "ccd"})").find("camera.kind"), std::string::npos);
}

TEST(CameraJson, OffsetAboveTheMedianIsAnError) {
    spotflow::camera::Camera c;
    c.baseline_adu = 500;
    try {
        spotflow::camera::check_against_data(c, 120);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("camera.baseline_adu"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("120"), std::string::npos);
    }
}

TEST(CameraJson, PoissonScaleHasUnitVarianceToMean) {
    spotflow::camera::Camera c; // sCMOS 0.5 e-/ADU, 1.5 e- read noise
    const auto u = spotflow::camera::poisson_scale(c);
    // 100 ADU above the offset: 50 e-, plus 2.25 e-^2 of read variance.
    EXPECT_NEAR(u(200), 52.25, 1e-12);
    c.kind = Kind::Emccd;
    c.e_per_adu = 20;
    const auto v = spotflow::camera::poisson_scale(c);
    EXPECT_NEAR(v(200), 10.0 + 1.5 * 1.5 / 1e4 / 2, 1e-9); // 100 ADU = 20 e- in, / F^2
}

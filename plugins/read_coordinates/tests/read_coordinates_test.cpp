// read.coordinates on PNGs written here: disks where the centres are, and
// every bad input of the issue named on one line with nothing emitted.
#include <gtest/gtest.h>

#include <cairo/cairo.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing;

namespace {

fs::path folder() {
    const fs::path d = fs::temp_directory_path() / ("read_coordinates_" + std::to_string(getpid()));
    fs::create_directories(d / "images");
    for (const char* name : {"a.png", "b.png"}) {
        cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 20, 16);
        cairo_t* cr = cairo_create(s);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_paint(cr);
        cairo_destroy(cr);
        cairo_surface_write_to_png(s, (d / "images" / name).c_str());
        cairo_surface_destroy(s);
    }
    return d;
}

struct Result {
    spotflow_status status;
    std::string error;
    std::vector<std::unique_ptr<OwnedPacket>> packets;
};

Result read(const fs::path& d, const nlohmann::json& coords, double radius = 2) {
    { std::ofstream(d / "coordinates.json") << coords.dump(); }
    PluginLibrary lib(PLUGIN_PATH);
    FakeHost host;
    const nlohmann::json p = {{"images", (d / "images").string()}, {"coordinates", (d / "coordinates.json").string()}, {"radius_px", radius}};
    NodeRunner node(lib.plugin("read.coordinates"), host, p.dump());
    Result r;
    r.status = node.created() ? node.pull_all() : host.error_status;
    r.error = host.error;
    r.packets = std::move(node.emitted);
    return r;
}

TEST(ReadCoordinates, DisksAroundTheCentres) {
    const fs::path d = folder();
    const Result r = read(d, {{"b.png", {{5, 4}}}, {"a.png", {{10.0, 8.0}, {{"x", 2}, {"y", 3}}}}});
    ASSERT_EQ(r.status, SPOTFLOW_OK) << r.error;
    ASSERT_EQ(r.packets.size(), 3u);
    const DLTensor& img = r.packets[0]->p.tensor->dl_tensor;
    EXPECT_EQ(spotflow::shape_name(img), "[2, 16, 20]");
    EXPECT_FLOAT_EQ(static_cast<const float*>(img.data)[0], 128.0f);
    const int8_t* m = static_cast<const int8_t*>(r.packets[1]->p.tensor->dl_tensor.data);
    // Image 0 is a.png (name order): disks of radius 2 at (10, 8) and (2, 3).
    EXPECT_EQ(m[8 * 20 + 10], 1);
    EXPECT_EQ(m[8 * 20 + 12], 1);  // distance 2: inside
    EXPECT_EQ(m[8 * 20 + 13], 0);
    EXPECT_EQ(m[9 * 20 + 12], 0);  // distance sqrt(5)
    EXPECT_EQ(m[3 * 20 + 2], 1);
    EXPECT_EQ(m[320 + 4 * 20 + 5], 1); // b.png
    int64_t ones = 0;
    for (int i = 0; i < 640; ++i) ones += m[i];
    EXPECT_EQ(ones, 3 * 13); // a radius-2 disk covers 13 pixel centres
    EXPECT_EQ(r.packets[2]->table().rows(), 3);
    fs::remove_all(d);
}

TEST(ReadCoordinates, BadInputIsNamedAndNothingIsEmitted) {
    const fs::path d = folder();
    Result r = read(d, {{"a.png", {{1, 1}}}, {"missing.png", {{1, 1}}}});
    EXPECT_EQ(r.status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error.find("entry \"missing.png\" names an image that is not in"), std::string::npos) << r.error;
    EXPECT_TRUE(r.packets.empty());
    r = read(d, {{"a.png", {{1, 1}, {20, 3}}}});
    EXPECT_EQ(r.status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error.find("entry \"a.png\", centre 1 (20.000000, 3.000000) lies outside the 20 x 16 px image"), std::string::npos) << r.error;
    EXPECT_TRUE(r.packets.empty());
    r = read(d, {{"a.png", nlohmann::json::array()}});
    EXPECT_EQ(r.status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_NE(r.error.find("an empty label set"), std::string::npos) << r.error;
    r = read(d, nlohmann::json::object());
    EXPECT_NE(r.error.find("an empty label set"), std::string::npos) << r.error;
    r = read(d, {{"a.png", {{1, "x"}}}});
    EXPECT_NE(r.error.find("centre 0: expected [x, y]"), std::string::npos) << r.error;
    fs::remove_all(d);
}

} // namespace

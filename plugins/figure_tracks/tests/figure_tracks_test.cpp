#include <cairo/cairo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <tuple>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "tracks_table.hpp"
#include "overlay_drawing.hpp"
#include "spotflow_plot/plot.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

// A decoded PNG, for reading back what was drawn.
class Png {
public:
    explicit Png(const fs::path& p) : s_(cairo_image_surface_create_from_png(p.c_str())) {}
    ~Png() { cairo_surface_destroy(s_); }
    bool ok() const { return cairo_surface_status(s_) == CAIRO_STATUS_SUCCESS; }
    int width() const { return cairo_image_surface_get_width(s_); }
    int height() const { return cairo_image_surface_get_height(s_); }
    spotflow::plot::Rgb at(int x, int y) const {
        const auto* row = cairo_image_surface_get_data(s_) + y * cairo_image_surface_get_stride(s_);
        const uint32_t v = reinterpret_cast<const uint32_t*>(row)[x];
        return {static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    }

private:
    cairo_surface_t* s_;
};

std::unique_ptr<OwnedPacket> movie_chunk(int64_t first, std::vector<uint16_t> pixels, int64_t frames, int64_t h,
                                         int64_t w, double pixel_nm = 0) {
    auto p = std::make_unique<OwnedPacket>();
    p->p.kind = SPOTFLOW_DATA_TENSOR;
    p->p.info = {first, frames, -1, pixel_nm, 0, 0, 0};
    p->p.tensor = spotflow::make_tensor<uint16_t>({frames, h, w}, std::move(pixels));
    return p;
}

std::unique_ptr<OwnedPacket> tracks(const std::vector<std::array<double, 4>>& rows) { // frame, x, y, id
    std::vector<spotflow::testing::TrackPoint> points;
    for (const auto& r : rows) points.push_back({static_cast<int64_t>(r[0]), r[1], r[2], static_cast<int64_t>(r[3])});
    return spotflow::testing::tracks_packet(points);
}

int spread(spotflow::plot::Rgb c) { return std::max({c.r, c.g, c.b}) - std::min({c.r, c.g, c.b}); }

class FigureTracks : public spotflow::testing::TestDirFixture {
protected:
    std::string params(int scale, double pixel_nm = 0, int min_points = 1) const {
        return R"({"file": "overlay.png", "scale": )" + std::to_string(scale) + R"(, "min_points": )" +
               std::to_string(min_points) + R"(, "pixel_size_nm": )" + std::to_string(pixel_nm) + R"(, "title": ""})";
    }

    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("figure.tracks_overlay");
};

TEST_F(FigureTracks, DescribesItself) {
    EXPECT_STREQ(desc.kind, "figure");
    ASSERT_EQ(desc.n_inputs, 2u);
    EXPECT_STREQ(desc.inputs[0].type, SPOTFLOW_TYPE_MOVIE);
    EXPECT_STREQ(desc.inputs[1].type, SPOTFLOW_TYPE_TRACKS);
    const auto schema = nlohmann::json::parse(desc.params_schema);
    EXPECT_EQ(schema.at("additionalProperties"), false);
    EXPECT_EQ(schema.at("properties").at("file").at("default"), "tracking_overlay.png");
}

// The projection is the maximum over every chunk: a bright pixel from each
// of two chunks both show, and the PNG is the movie scaled by 4 plus the
// title band.
TEST_F(FigureTracks, ProjectsEveryChunkAndScalesTheImage) {
    const int64_t h = 6, w = 10;
    std::vector<uint16_t> a(2 * h * w, 100), b(3 * h * w, 100);
    a[1 * h * w + 1 * w + 1] = 4000; // frame 1, pixel (1, 1)
    b[2 * h * w + 4 * w + 8] = 4000; // frame 4, pixel (8, 4)
    NodeRunner node(desc, host, params(4));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.process(0, movie_chunk(0, a, 2, h, w)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(0, movie_chunk(2, b, 3, h, w)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.process(1, tracks({})->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(host.logs.back(), "0 tracks drawn over 5 frames, 4 output px per movie px");

    const Png png(dir_ / "overlay.png");
    ASSERT_TRUE(png.ok());
    EXPECT_EQ(png.width(), w * 4);
    const int band = png.height() - static_cast<int>(h) * 4;
    EXPECT_GT(band, 0);
    EXPECT_LT(band, 64);
    auto grey = [&](int x, int y) { return png.at(4 * x + 2, band + 4 * y + 2).g; };
    EXPECT_EQ(grey(1, 1), 255);
    EXPECT_EQ(grey(8, 4), 255);
    EXPECT_EQ(grey(5, 2), 0);
}

// Each track is drawn in its own palette colour.
TEST_F(FigureTracks, DrawsEachTrackInItsOwnColour) {
    const int64_t h = 20, w = 20;
    NodeRunner node(desc, host, params(5));
    ASSERT_EQ(node.process(0, movie_chunk(0, std::vector<uint16_t>(h * w, 50), 1, h, w)->p), SPOTFLOW_OK);
    ASSERT_EQ(node.process(1, tracks({{0, 2, 5, 7}, {1, 17, 5, 7}, {0, 2, 14, 9}, {1, 17, 14, 9}})->p), SPOTFLOW_OK)
        << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    const Png png(dir_ / "overlay.png");
    ASSERT_TRUE(png.ok());
    const int band = png.height() - static_cast<int>(h) * 5;
    // Mid-way along each horizontal track, the brighter of the two output
    // rows its 1.5 px line straddles.
    auto on_line = [&](double y) {
        const int oy = band + static_cast<int>((y + 0.5) * 5);
        const auto a = png.at(50, oy - 1), b = png.at(50, oy);
        return spread(a) > spread(b) ? a : b;
    };
    const auto first = on_line(5), second = on_line(14);
    EXPECT_GT(spread(first), 40);
    EXPECT_GT(spread(second), 40);
    EXPECT_NE(std::make_tuple(first.r, first.g, first.b), std::make_tuple(second.r, second.g, second.b));
}

TEST_F(FigureTracks, ChoosesScaleAndScaleBar) {
    using figure_tracks::automatic_scale;
    using figure_tracks::scale_bar_length;
    EXPECT_EQ(automatic_scale(256, 256), 3);
    EXPECT_EQ(automatic_scale(512, 300), 2);
    EXPECT_EQ(automatic_scale(64, 64), 8);
    EXPECT_EQ(automatic_scale(1000, 10), 1);
    // A fifth of 256 px x 108 nm is 5529.6 nm: 5 µm, 46.30 px.
    auto [len, label] = scale_bar_length(256, 108);
    EXPECT_NEAR(len, 5000.0 / 108, 1e-12);
    EXPECT_EQ(label, "5 µm");
    std::tie(len, label) = scale_bar_length(512, 100); // 10240 nm
    EXPECT_EQ(label, "10 µm");
    std::tie(len, label) = scale_bar_length(64, 160); // 2048 nm
    EXPECT_EQ(label, "2 µm");
    std::tie(len, label) = scale_bar_length(32, 20); // 128 nm
    EXPECT_EQ(label, "100 nm");
    EXPECT_NEAR(len, 5.0, 1e-12);
}

TEST_F(FigureTracks, Errors) {
    NodeRunner empty(desc, host, params(2));
    ASSERT_EQ(empty.process(1, tracks({{0, 1, 1, 0}})->p), SPOTFLOW_OK);
    EXPECT_EQ(empty.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "no movie frame arrived: nothing to draw the tracks on");

    NodeRunner sizes(desc, host, params(2));
    ASSERT_EQ(sizes.process(0, movie_chunk(0, std::vector<uint16_t>(12), 1, 3, 4)->p), SPOTFLOW_OK);
    EXPECT_EQ(sizes.process(0, movie_chunk(1, std::vector<uint16_t>(12), 1, 4, 3)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "a movie chunk is 3x4 pixels, the first was 4x3");

    NodeRunner dims(desc, host, params(2));
    OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TENSOR;
    p.p.tensor = spotflow::make_tensor<uint16_t>({1, 2, 3, 4});
    EXPECT_EQ(dims.process(0, p.p), SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_EQ(host.error, "the movie must arrive as compact CPU T x H x W chunks (got 4 dimensions)");
}

} // namespace

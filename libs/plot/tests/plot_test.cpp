#include <gtest/gtest.h>

#include <cairo/cairo.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "spotflow_plot/plot.hpp"

using namespace spotflow::plot;
namespace fs = std::filesystem;

namespace {

fs::path out(const std::string& name) {
    const auto d = fs::temp_directory_path() / ("spotflow_plot_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d / name;
}

// Width and height of a PNG, decoded by cairo; (0, 0) if it does not decode.
std::pair<int, int> png_size(const fs::path& p) {
    cairo_surface_t* s = cairo_image_surface_create_from_png(p.c_str());
    std::pair<int, int> r{0, 0};
    if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) r = {cairo_image_surface_get_width(s), cairo_image_surface_get_height(s)};
    cairo_surface_destroy(s);
    return r;
}

TEST(Figure, DrawsEveryPanelKindToAPngOfTheAskedSize) {
    Figure f(1000, 700, 2, 2, "spotflow plot test");
    std::vector<double> x, y1, y2;
    for (int i = 0; i <= 50; ++i) x.push_back(i * 0.1), y1.push_back(std::sin(i * 0.1)), y2.push_back(std::cos(i * 0.1));
    f.lines(0, {"Lines", "time (s)", "value (a.u.)"}, {{"sin", x, y1}, {"cos", x, y2, Series::LinePoints}});
    f.bars(1, {"Bars", "", "score"}, {"nearest", "lap", "magik"}, {{"alpha", {}, {0.8, 0.95, 0.9}}, {"beta", {}, {0.7, 0.9, 0.85}}});
    std::vector<double> v;
    for (int i = 0; i < 500; ++i) v.push_back(std::fmod(i * 0.618, 1.0) + std::fmod(i * 0.414, 1.0));
    f.histogram(2, {"Histogram", "error (px)", "count"}, v, 20);
    f.vline(2, 1.0, "CRLB");
    f.text(3, {"precision 0.998", "recall 0.995", "F1 0.9965"}, "Summary");
    const auto p = out("figure.png");
    f.save_png(p.string());
    EXPECT_EQ(png_size(p), std::make_pair(1000, 700));
}

TEST(Figure, UnwritablePathIsAClearError) {
    Figure f(200, 200);
    try {
        f.save_png("/nonexistent-dir/x.png");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot write figure '/nonexistent-dir/x.png'"), std::string::npos);
    }
}

TEST(Overlay, MarksLandOnTheirImagePixels) {
    std::vector<float> img(20 * 10, 0.f);
    Overlay o(img.data(), 20, 10, 4);
    o.circle(5, 3, 0.5, 3, 3.0); // palette colour 3
    o.title("overlay");
    const auto p = out("overlay.png");
    o.save_png(p.string());
    cairo_surface_t* s = cairo_image_surface_create_from_png(p.c_str());
    ASSERT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    EXPECT_EQ(cairo_image_surface_get_width(s), 80);
    // Pixel (5, 3)'s centre is at output (22, 28 + 14); its circle of radius
    // 2 output px passes through (24, 42).
    const unsigned char* d = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    const uint32_t px = reinterpret_cast<const uint32_t*>(d + 42 * stride)[24];
    const Rgb c = palette(3);
    EXPECT_NEAR(static_cast<int>((px >> 16) & 255), c.r, 60);
    EXPECT_NEAR(static_cast<int>(px & 255), c.b, 60);
    cairo_surface_destroy(s);
}

} // namespace

#include <gtest/gtest.h>

#include <cairo/cairo.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
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

TEST(Figure, ErrorBarsCountedHistogramsAndImagePanels) {
    Figure f(1200, 800, 2, 2, "error bars, counted histogram, image panels");
    f.lines(0, {"Error bars", "photons", "RMSE (nm)"},
            {{"measured", {500, 1000, 2000}, {16, 9, 6}, Series::LinePoints, {2, 1, 0.5}},
             {"CRLB", {500, 1000, 2000}, {15.9, 8.9, 5.2}}});
    f.bars(1, {"Bars with error bars", "", "F1"}, {"a", "b"}, {{"mean of 3", {}, {0.9, 0.8}, Series::Line, {0.05, 0.1}}});
    f.histogram_counts(2, {"Counted", "error (nm)", "pairs"}, {0, 5, 10, 20, 40}, {3, 10, 6, 1});
    f.vline(2, 12.0, "CRLB (12 nm)");
    std::vector<float> img(32 * 24);
    for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<float>(i % 32);
    Overlay o(img.data(), 32, 24, 4);
    o.circle(8, 8, 2, Vermilion);
    o.legend({{"truth", Blue, Overlay::Mark::Circle}});
    f.image(3, o, "an overlay in a panel");
    const auto p = out("figure_extras.png");
    f.save_png(p.string());
    EXPECT_EQ(png_size(p), std::make_pair(1200, 800));
}

TEST(Figure, RejectsInconsistentInput) {
    Figure f(300, 200, 1, 2);
    EXPECT_THROW(f.lines(2, {}, {}), std::out_of_range);
    EXPECT_THROW(f.lines(0, {}, {{"a", {1, 2}, {1}}}), std::invalid_argument);
    EXPECT_THROW(f.lines(0, {}, {{"a", {1, 2}, {1, 2}, Series::Line, {1}}}), std::invalid_argument);
    EXPECT_THROW(f.histogram_counts(0, {}, {0, 1}, {1, 2}), std::invalid_argument);
    EXPECT_THROW(f.histogram_counts(0, {}, {0, 2, 1}, {1, 2}), std::invalid_argument);
    EXPECT_THROW(f.histogram(0, {}, {1.0}, 0), std::invalid_argument);
    EXPECT_THROW(Figure(4, 4), std::invalid_argument);
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

// Colour of output pixel (x, y) of a decoded PNG.
Rgb pixel(cairo_surface_t* s, int x, int y) {
    const unsigned char* d = cairo_image_surface_get_data(s);
    const uint32_t v = reinterpret_cast<const uint32_t*>(d + y * cairo_image_surface_get_stride(s))[x];
    return {static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
}

TEST(Overlay, PercentileStretchAndKeys) {
    // A ramp 0..99 with one NaN: below the 10th percentile black, above the
    // 90th white, NaN black.
    std::vector<float> img(100);
    for (int i = 0; i < 100; ++i) img[static_cast<size_t>(i)] = static_cast<float>(i);
    img[50] = std::nanf("");
    Overlay o(img.data(), 10, 10, 3, 10, 90);
    EXPECT_EQ(o.width_px(), 30);
    EXPECT_EQ(o.height_px(), 30 + 28);
    const auto p = out("overlay_stretch.png");
    o.save_png(p.string());
    cairo_surface_t* s = cairo_image_surface_create_from_png(p.c_str());
    ASSERT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    auto grey = [&](int ix, int iy) { return static_cast<int>(pixel(s, ix * 3 + 1, 28 + iy * 3 + 1).g); };
    EXPECT_EQ(grey(0, 0), 0);     // value 0
    EXPECT_EQ(grey(9, 9), 255);   // value 99
    EXPECT_EQ(grey(0, 5), 0);     // NaN
    EXPECT_GT(grey(5, 4), 100);   // value 45: mid grey
    EXPECT_LT(grey(5, 4), 160);
    cairo_surface_destroy(s);
    EXPECT_THROW(Overlay(img.data(), 10, 10, 3, 90, 10), std::invalid_argument);
    EXPECT_THROW(Overlay(img.data(), 0, 10, 3), std::invalid_argument);

    std::vector<float> dark(40 * 30, 0.f);
    Overlay k(dark.data(), 40, 30, 4);
    k.legend({{"true positive", Green, Overlay::Mark::Cross}, {"missed", Orange, Overlay::Mark::Circle}});
    k.scale_bar(10, "1 µm");
    k.title("legend");
    const auto q = out("overlay_legend.png");
    k.save_png(q.string());
    EXPECT_EQ(png_size(q), std::make_pair(160, 120 + 28));
}

TEST(Overlay, HeatMapWithColourBar) {
    EXPECT_EQ(colormap(Colormap::Viridis, 0).r, 68);
    EXPECT_EQ(colormap(Colormap::Viridis, 1).g, 231);
    EXPECT_EQ(colormap(Colormap::Viridis, 0.5).g, 145);
    EXPECT_EQ(colormap(Colormap::Viridis, 0.05).b, 101); // halfway between 84 and 117 (100.5, rounded)
    EXPECT_EQ(colormap(Colormap::Viridis, 7).r, 253);    // clamped
    EXPECT_EQ(colormap(Colormap::Grey, 0.5).r, 128);
    // A 0..1 ramp over 10 columns, scale 4, with the bar.
    std::vector<float> img(10 * 6);
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 10; ++x) img[static_cast<size_t>(y * 10 + x)] = x / 9.0f;
    Overlay o(img.data(), 10, 6, 4, Overlay::ColourScale{0, 1, Colormap::Viridis, true, "probability", 64});
    o.title("prediction");
    EXPECT_EQ(o.width_px(), 40 + 64);
    const auto p = out("overlay_heatmap.png");
    o.save_png(p.string());
    cairo_surface_t* s = cairo_image_surface_create_from_png(p.c_str());
    ASSERT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    EXPECT_EQ(cairo_image_surface_get_width(s), 104);
    const Rgb lo = pixel(s, 1, 28 + 1), hi = pixel(s, 9 * 4 + 1, 28 + 1);
    EXPECT_EQ(lo.r, 68);
    EXPECT_EQ(lo.b, 84);
    EXPECT_EQ(hi.g, 231);
    // The bar's top is vmax's colour, its bottom vmin's.
    const Rgb top = pixel(s, 40 + 14, 28 + 7), bottom = pixel(s, 40 + 14, 28 + 24 - 7);
    EXPECT_GT(top.g, 200);
    EXPECT_LT(bottom.g, 40);
    cairo_surface_destroy(s);
    EXPECT_THROW(Overlay(img.data(), 10, 6, 4, Overlay::ColourScale{1, 1, Colormap::Viridis, true, "", 64}), std::invalid_argument);
}

} // namespace

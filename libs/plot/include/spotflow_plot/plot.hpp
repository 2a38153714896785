// spotflow_plot: charts through PLplot (pngcairo) and image overlays through
// cairo, for the figures plugins write. Both draw with real libraries; this
// is only the thin layer that gives every spotflow figure the same look.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spotflow::plot {

// A qualitative palette of 10 colours (as 0..255 RGB), cycled by index.
struct Rgb {
    unsigned char r, g, b;
};
Rgb palette(int index);
// Sequential colormaps for maps of one quantity (a probability): value t
// in [0, 1] to a colour. Viridis is matplotlib's default (van der Walt &
// Smith 2015; perceptually uniform, readable in greyscale and by colour-blind
// people), interpolated linearly between its 11 tenth-step colours; Grey is
// black to white. t outside [0, 1] is clamped, NaN is black.
enum class Colormap { Viridis, Grey };
Rgb colormap(Colormap map, double t);

// Names of the palette's indices.
enum Colour { Blue = 0, Orange, Green, Vermilion, Pink, SkyBlue, Grey, Yellow, Purple, Black };

struct Series {
    std::string label;
    std::vector<double> x, y;
    enum Style { Line, Points, LinePoints } style = Line;
    std::vector<double> yerr = {}; // optional: symmetric error bars, one per y (empty: none)
};

struct Axes {
    std::string title, xlabel, ylabel;
    std::optional<std::pair<double, double>> xlim, ylim; // default: the data's range, padded
    bool legend = true;
};

// A figure of rows x cols panels, drawn when saved. Panels are numbered
// row-major from 0. Throws std::runtime_error with a clear message when the
// PNG cannot be written.
class Overlay;

class Figure {
public:
    Figure(int width_px, int height_px, int rows = 1, int cols = 1, std::string suptitle = "");
    ~Figure();
    Figure(const Figure&) = delete;
    Figure& operator=(const Figure&) = delete;

    void lines(int panel, const Axes& axes, const std::vector<Series>& series);
    // Grouped bars: one group per Series (its y holds one value per category).
    void bars(int panel, const Axes& axes, const std::vector<std::string>& categories, const std::vector<Series>& groups);
    void histogram(int panel, const Axes& axes, const std::vector<double>& values, int bins,
                   std::optional<std::pair<double, double>> range = {}, const std::string& label = "");
    // Several histograms over the same bins, drawn as outlines.
    void histograms(int panel, const Axes& axes, const std::vector<Series>& samples /* values in y */, int bins,
                    std::optional<std::pair<double, double>> range = {});
    // A histogram already counted: bin k spans [edges[k], edges[k + 1]).
    // Throws std::invalid_argument unless edges.size() == counts.size() + 1
    // and the edges increase.
    void histogram_counts(int panel, const Axes& axes, const std::vector<double>& edges,
                          const std::vector<double>& counts, const std::string& label = "");
    // A panel of text lines (a metrics summary).
    void text(int panel, const std::vector<std::string>& lines, const std::string& title = "");
    // A dashed vertical marker line in a panel, listed in its legend.
    void vline(int panel, double x, const std::string& label, int colour_index = 3);
    // An image overlay (its current state is copied), scaled to fit the
    // panel with its aspect ratio kept, under an optional title.
    void image(int panel, const Overlay& overlay, const std::string& title = "");

    void save_png(const std::string& path) const;

    struct Command; // what to draw in a panel

private:
    int width_, height_, rows_, cols_;
    std::string suptitle_;
    std::vector<std::vector<Command>> panels_;
};

// A greyscale image (contrast stretched between two percentiles of its
// finite pixels, 0.5 and 99.5 by default; non-finite pixels black), scaled
// up by an integer factor, with marks drawn in image pixel coordinates: the
// centre of the top-left pixel is (0, 0), so image point (x, y) lands on
// output pixel ((x + 0.5) * scale, band + (y + 0.5) * scale), where band is
// the title band above the image (28 px). The PNG is width * scale wide and
// height * scale + 28 tall. Circle radii and cross sizes are in image
// pixels, line widths in output pixels.
class Overlay {
public:
    Overlay(const float* image, int width, int height, int scale, double low_percentile = 0.5,
            double high_percentile = 99.5);
    // A heat map instead of grey levels: value v coloured by
    // colormap((v - vmin) / (vmax - vmin)) over a fixed range (a probability
    // map: 0 to 1), with a colour bar (ticks at vmin, the middle and vmax,
    // and `label`) in `bar_px` extra columns right of the image, which
    // width_px() includes. Marks still use image coordinates.
    struct ColourScale {
        double vmin = 0, vmax = 1;
        Colormap map = Colormap::Viridis;
        bool colour_bar = true;
        std::string label;
        int bar_px = 64;
    };
    Overlay(const float* image, int width, int height, int scale, const ColourScale& colours);
    ~Overlay();
    Overlay(const Overlay&) = delete;
    Overlay& operator=(const Overlay&) = delete;

    void polyline(const std::vector<std::pair<double, double>>& xy, int colour_index, double line_width = 1.5);
    void circle(double x, double y, double radius_px, int colour_index, double line_width = 1.5);
    void cross(double x, double y, double size_px, int colour_index, double line_width = 1.5);
    void label(double x, double y, const std::string& text, int colour_index = -1);
    void title(const std::string& text);
    // A bar of `length_px` image pixels in the bottom right, with its label.
    void scale_bar(double length_px, const std::string& label);
    // A key in the top-right corner of the image: per entry a mark of its
    // palette colour (circle, cross or line) and its name, on a dark box.
    enum class Mark { Circle, Cross, Line };
    struct Key {
        std::string name;
        int colour_index;
        Mark mark = Mark::Line;
    };
    void legend(const std::vector<Key>& keys);

    int width_px() const;  // of the PNG
    int height_px() const; // of the PNG, title band included
    void save_png(const std::string& path) const;

    struct Impl;

private:
    Impl* impl_;
    friend class Figure;
};

} // namespace spotflow::plot

// Figure: panels recorded as commands, drawn in one pass by PLplot's
// pngcairo device when saved. PLplot keeps global state per stream and is
// not safe to drive from two threads at once, hence the one lock.
#include <plplot/plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <variant>

#include "spotflow_plot/plot.hpp"

namespace spotflow::plot {

Rgb palette(int index) {
    // Okabe–Ito-like qualitative colours, distinguishable by colour-blind readers.
    static const Rgb kColours[10] = {{0, 114, 178},  {230, 159, 0},  {0, 158, 115}, {213, 94, 0},   {204, 121, 167},
                                     {86, 180, 233}, {120, 120, 120}, {240, 228, 66}, {150, 70, 150}, {40, 40, 40}};
    const int n = 10;
    return kColours[((index % n) + n) % n];
}

struct Figure::Command {
    enum class Kind { Lines, Bars, Histograms, Text, VLine } kind;
    Axes axes;
    std::vector<Series> series;
    std::vector<std::string> strings;
    int bins = 0;
    std::optional<std::pair<double, double>> range;
    double x = 0;
    int colour = 0;
};

namespace {

std::mutex& plplot_lock() {
    static std::mutex m;
    return m;
}

constexpr int kFirstColour = 2; // cmap0: 0 background, 1 ink, then the palette

void colour(int palette_index) { plcol0(kFirstColour + ((palette_index % 10) + 10) % 10); }
void ink() { plcol0(1); }

std::pair<double, double> padded(double lo, double hi, bool from_zero) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
    if (from_zero) lo = std::min(lo, 0.0);
    if (hi <= lo) hi = lo + 1;
    const double pad = 0.05 * (hi - lo);
    return {from_zero && lo == 0 ? 0 : lo - pad, hi + pad};
}

void frame(const Axes& a, double x0, double x1, double y0, double y1, const char* xopt = "bcnst") {
    plwind(x0, x1, y0, y1);
    ink();
    plbox(xopt, 0, 0, "bcnstv", 0, 0);
    pllab(a.xlabel.c_str(), a.ylabel.c_str(), a.title.c_str());
}

void rect_fill(double x0, double x1, double y0, double y1) {
    const double xs[4] = {x0, x1, x1, x0}, ys[4] = {y0, y0, y1, y1};
    plfill(4, xs, ys);
}

// Room above the data for a legend of n entries, so it never hides data.
std::pair<double, double> with_headroom(std::pair<double, double> y, size_t n, bool legend) {
    if (legend && n > 1) y.second += (y.second - y.first) * (0.1 * static_cast<double>(n) + 0.05);
    return y;
}

// A legend drawn in the panel's top-right corner (world coordinates).
void legend(const std::vector<std::string>& labels, const std::vector<bool>& as_line, double x0, double x1, double y0,
            double y1) {
    const double w = x1 - x0, h = y1 - y0;
    for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i].empty()) continue;
        const double y = y1 - h * (0.06 + 0.1 * static_cast<double>(i));
        const double xs[2] = {x1 - 0.30 * w, x1 - 0.24 * w};
        const double ys[2] = {y, y};
        colour(static_cast<int>(i));
        if (as_line[i]) plline(2, xs, ys);
        else {
            const double xm = 0.5 * (xs[0] + xs[1]);
            plpoin(1, &xm, &y, 17);
        }
        ink();
        plptex(x1 - 0.22 * w, y, 1, 0, 0, labels[i].c_str());
    }
}

void draw_lines(const Figure::Command& c) {
    double xl = std::numeric_limits<double>::infinity(), xh = -xl, yl = xl, yh = -xl;
    for (const auto& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                xl = std::min(xl, s.x[i]), xh = std::max(xh, s.x[i]);
                yl = std::min(yl, s.y[i]), yh = std::max(yh, s.y[i]);
            }
    const auto [x0, x1] = c.axes.xlim.value_or(padded(xl, xh, false));
    const auto [y0, y1] = c.axes.ylim.value_or(with_headroom(padded(yl, yh, false), c.series.size(), c.axes.legend));
    frame(c.axes, x0, x1, y0, y1);
    std::vector<std::string> labels;
    std::vector<bool> as_line;
    for (size_t k = 0; k < c.series.size(); ++k) {
        const auto& s = c.series[k];
        const int n = static_cast<int>(std::min(s.x.size(), s.y.size()));
        colour(static_cast<int>(k));
        plwidth(2.0);
        if (s.style != Series::Points && n > 1) plline(n, s.x.data(), s.y.data());
        if (s.style != Series::Line && n > 0) plpoin(n, s.x.data(), s.y.data(), 17);
        plwidth(1.0);
        labels.push_back(s.label);
        as_line.push_back(s.style != Series::Points);
    }
    if (c.axes.legend && c.series.size() > 1) legend(labels, as_line, x0, x1, y0, y1);
}

void rect(double x0, double x1, double y0, double y1) { rect_fill(x0, x1, y0, y1); }

void draw_bars(const Figure::Command& c) {
    const size_t n = c.strings.size(), g = std::max<size_t>(1, c.series.size());
    double yh = 0, yl = 0;
    for (const auto& s : c.series)
        for (const double v : s.y)
            if (std::isfinite(v)) yh = std::max(yh, v), yl = std::min(yl, v);
    const auto [y0, y1] = c.axes.ylim.value_or(with_headroom(padded(yl, yh, true), c.series.size(), c.axes.legend));
    frame(c.axes, 0, static_cast<double>(n), y0, y1, "bc");
    const double width = 0.8 / static_cast<double>(g);
    for (size_t k = 0; k < c.series.size(); ++k) {
        colour(static_cast<int>(k));
        for (size_t i = 0; i < n && i < c.series[k].y.size(); ++i) {
            const double v = c.series[k].y[i];
            if (!std::isfinite(v)) continue;
            const double left = static_cast<double>(i) + 0.1 + width * static_cast<double>(k);
            rect(left, left + width * 0.95, 0, v);
        }
    }
    ink();
    for (size_t i = 0; i < n; ++i)
        plmtex("b", 1.5, (static_cast<double>(i) + 0.5) / static_cast<double>(n), 0.5, c.strings[i].c_str());
    if (c.axes.legend && c.series.size() > 1) {
        std::vector<std::string> labels;
        for (const auto& s : c.series) labels.push_back(s.label);
        legend(labels, std::vector<bool>(labels.size(), true), 0, static_cast<double>(n), y0, y1);
    }
}

void draw_histograms(const Figure::Command& c) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : c.series)
        for (const double v : s.y)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (c.range) lo = c.range->first, hi = c.range->second;
    if (!(hi > lo)) hi = lo + 1;
    const int bins = std::max(1, c.bins);
    const double w = (hi - lo) / bins;
    std::vector<std::vector<double>> counts;
    double top = 0;
    for (const auto& s : c.series) {
        std::vector<double> h(static_cast<size_t>(bins), 0);
        for (const double v : s.y) {
            if (!std::isfinite(v) || v < lo || v > hi) continue;
            h[static_cast<size_t>(std::min(bins - 1, static_cast<int>((v - lo) / w)))] += 1;
        }
        top = std::max(top, *std::max_element(h.begin(), h.end()));
        counts.push_back(std::move(h));
    }
    const auto [y0, y1] = c.axes.ylim.value_or(with_headroom(padded(0, top, true), c.series.size(), c.axes.legend));
    frame(c.axes, lo, hi, y0, y1);
    for (size_t k = 0; k < counts.size(); ++k) {
        colour(static_cast<int>(k));
        if (counts.size() == 1) {
            for (int b = 0; b < bins; ++b)
                if (counts[k][static_cast<size_t>(b)] > 0) rect(lo + b * w, lo + (b + 1) * w, 0, counts[k][static_cast<size_t>(b)]);
            ink();
            for (int b = 0; b < bins; ++b) { // outlines so adjacent bars read apart
                const double xs[5] = {lo + b * w, lo + (b + 1) * w, lo + (b + 1) * w, lo + b * w, lo + b * w};
                const double h = counts[k][static_cast<size_t>(b)];
                const double ys[5] = {0, 0, h, h, 0};
                if (h > 0) plline(5, xs, ys);
            }
        } else {
            std::vector<double> xs, ys;
            for (int b = 0; b < bins; ++b) {
                xs.insert(xs.end(), {lo + b * w, lo + (b + 1) * w});
                ys.insert(ys.end(), {counts[k][static_cast<size_t>(b)], counts[k][static_cast<size_t>(b)]});
            }
            plwidth(2.0);
            plline(static_cast<int>(xs.size()), xs.data(), ys.data());
            plwidth(1.0);
        }
    }
    if (c.axes.legend && c.series.size() > 1) {
        std::vector<std::string> labels;
        for (const auto& s : c.series) labels.push_back(s.label);
        legend(labels, std::vector<bool>(labels.size(), true), lo, hi, y0, y1);
    }
}

void draw_text(const Figure::Command& c) {
    plwind(0, 1, 0, 1);
    ink();
    if (!c.axes.title.empty()) plmtex("t", 1.0, 0.5, 0.5, c.axes.title.c_str());
    for (size_t i = 0; i < c.strings.size(); ++i)
        plptex(0.02, 0.92 - 0.11 * static_cast<double>(i), 1, 0, 0, c.strings[i].c_str());
}

} // namespace

Figure::Figure(int width_px, int height_px, int rows, int cols, std::string suptitle)
    : width_(width_px), height_(height_px), rows_(std::max(1, rows)), cols_(std::max(1, cols)),
      suptitle_(std::move(suptitle)), panels_(static_cast<size_t>(rows_ * cols_)) {}

Figure::~Figure() = default;

static Figure::Command& add(std::vector<std::vector<Figure::Command>>& panels, int panel) {
    if (panel < 0 || static_cast<size_t>(panel) >= panels.size())
        throw std::out_of_range("figure has no panel " + std::to_string(panel));
    panels[static_cast<size_t>(panel)].push_back({});
    return panels[static_cast<size_t>(panel)].back();
}

void Figure::lines(int panel, const Axes& axes, const std::vector<Series>& series) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Lines, c.axes = axes, c.series = series;
}

void Figure::bars(int panel, const Axes& axes, const std::vector<std::string>& categories, const std::vector<Series>& groups) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Bars, c.axes = axes, c.strings = categories, c.series = groups;
}

void Figure::histogram(int panel, const Axes& axes, const std::vector<double>& values, int bins,
                       std::optional<std::pair<double, double>> range, const std::string& label) {
    histograms(panel, axes, {Series{label, {}, values}}, bins, range);
}

void Figure::histograms(int panel, const Axes& axes, const std::vector<Series>& samples, int bins,
                        std::optional<std::pair<double, double>> range) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Histograms, c.axes = axes, c.series = samples, c.bins = bins, c.range = range;
}

void Figure::text(int panel, const std::vector<std::string>& lines, const std::string& title) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Text, c.strings = lines, c.axes.title = title;
}

void Figure::vline(int panel, double x, const std::string& label, int colour_index) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::VLine, c.x = x, c.strings = {label}, c.colour = colour_index;
}

void Figure::save_png(const std::string& path) const {
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) std::fclose(f);
    else throw std::runtime_error("cannot write figure '" + path + "': " + std::strerror(errno));

    std::lock_guard<std::mutex> lock(plplot_lock());
    PLINT stream = 0;
    plmkstrm(&stream);
    plsdev("pngcairo");
    plsfnam(path.c_str());
    plspage(0, 0, width_, height_, 0, 0);
    plscol0(0, 255, 255, 255);
    plscol0(1, 0, 0, 0);
    plscmap0n(kFirstColour + 10);
    plscol0(0, 255, 255, 255);
    plscol0(1, 0, 0, 0);
    for (int i = 0; i < 10; ++i) {
        const Rgb c = palette(i);
        plscol0(kFirstColour + i, c.r, c.g, c.b);
    }
    plinit();
    pladv(0);
    plschr(0, 0.8);
    const double top = suptitle_.empty() ? 0.97 : 0.92;
    if (!suptitle_.empty()) {
        plvpor(0, 1, top, 1);
        plwind(0, 1, 0, 1);
        ink();
        plschr(0, 1.1);
        plptex(0.5, 0.4, 1, 0, 0.5, suptitle_.c_str());
        plschr(0, 0.8);
    }
    const double cw = 1.0 / cols_, ch = top / rows_;
    for (int p = 0; p < rows_ * cols_; ++p) {
        const int r = p / cols_, col = p % cols_;
        // Margins leave room for the tick labels, axis labels and title.
        plvpor(col * cw + 0.09 * cw + 0.03, (col + 1) * cw - 0.03, top - (r + 1) * ch + 0.2 * ch + 0.03,
               top - r * ch - 0.1 * ch - 0.02);
        for (const auto& c : panels_[static_cast<size_t>(p)]) {
            switch (c.kind) {
            case Command::Kind::Lines: draw_lines(c); break;
            case Command::Kind::Bars: draw_bars(c); break;
            case Command::Kind::Histograms: draw_histograms(c); break;
            case Command::Kind::Text: draw_text(c); break;
            case Command::Kind::VLine: {
                PLFLT x0, x1, y0, y1;
                plgvpw(&x0, &x1, &y0, &y1);
                const double xs[2] = {c.x, c.x}, ys[2] = {y0, y1};
                colour(c.colour);
                plwidth(2.0);
                plline(2, xs, ys);
                plwidth(1.0);
                plptex(c.x, y1 - 0.08 * (y1 - y0), 1, 0, -0.05, c.strings[0].c_str());
                break;
            }
            }
        }
    }
    plend1();
}

} // namespace spotflow::plot

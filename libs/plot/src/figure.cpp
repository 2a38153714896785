// Figure: panels recorded as commands, drawn in one pass when saved. PLplot's
// cairo driver (extcairo: the same renderer as pngcairo, onto a cairo surface
// of ours) draws the charts; cairo then paints image panels and writes the
// PNG, so a write failure is reported rather than printed by PLplot. PLplot
// keeps global state and is not safe to drive from two threads at once,
// hence the one lock.
#include <plplot/plplot.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "overlay_impl.hpp"
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
    enum class Kind { Lines, Bars, Histograms, HistogramCounts, Text, VLine, Image } kind;
    Axes axes;
    std::vector<Series> series;
    std::vector<std::string> strings;
    int bins = 0;
    std::optional<std::pair<double, double>> range;
    double x = 0;
    int colour = 0;
    std::shared_ptr<cairo_surface_t> image; // Kind::Image: a snapshot of the overlay
};

namespace {

std::mutex& plplot_lock() {
    static std::mutex m;
    return m;
}

constexpr int kFirstColour = 2; // cmap0: 0 background, 1 ink, then the palette

void colour(int palette_index) { plcol0(kFirstColour + ((palette_index % 10) + 10) % 10); }
void ink() { plcol0(1); }

// A legend entry: what a series, a bar group or a marker line looks like.
struct Entry {
    std::string label;
    int colour;
    enum Kind { Line, Points, LinePoints, Box } kind;
    bool dashed = false;
};

Entry::Kind entry_kind(Series::Style s) {
    return s == Series::Points ? Entry::Points : s == Series::LinePoints ? Entry::LinePoints : Entry::Line;
}

std::pair<double, double> padded(double lo, double hi, bool from_zero) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
    if (from_zero) lo = std::min(lo, 0.0);
    if (hi <= lo) hi = lo + 1;
    const double pad = 0.05 * (hi - lo);
    return {from_zero && lo == 0 ? 0 : lo - pad, hi + pad};
}

// A 1-2-5 tick step on x whose labels fit the viewport's width: PLplot's own
// choice ignores the labels' length, so "800" and "1000" ran together in
// narrow panels. 0 (PLplot's choice) when the axis has no numeric labels.
double x_tick_step(double x0, double x1, const char* xopt) {
    if (!std::strchr(xopt, 'n') || !(x1 > x0)) return 0;
    PLFLT def = 0, ht = 0, sx0 = 0, sx1 = 0, sy0 = 0, sy1 = 0, vx0 = 0, vx1 = 0, vy0 = 0, vy1 = 0;
    plgchr(&def, &ht);
    plgspa(&sx0, &sx1, &sy0, &sy1);
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    const double width_mm = (vx1 - vx0) * (sx1 - sx0);
    const auto chars = [](double v) {
        char buf[32];
        return static_cast<double>(std::snprintf(buf, sizeof buf, "%g", v));
    };
    // A label's width (a digit is about 0.8 character heights) and a gap of two digits.
    const double label_mm = 0.8 * ht * (std::max(chars(x0), chars(x1)) + 2);
    const double fit = std::max(2.0, std::floor(width_mm / label_mm));
    const double raw = (x1 - x0) / fit;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) return m * mag;
    return 10 * mag;
}

void frame(const Axes& a, double x0, double x1, double y0, double y1, const char* xopt = "bcnst") {
    plwind(x0, x1, y0, y1);
    ink();
    plbox(xopt, x_tick_step(x0, x1, xopt), 0, "bcnstv", 0, 0);
    pllab(a.xlabel.c_str(), a.ylabel.c_str(), a.title.c_str());
}

void rect(double x0, double x1, double y0, double y1) {
    const double xs[4] = {x0, x1, x1, x0}, ys[4] = {y0, y0, y1, y1};
    plfill(4, xs, ys);
}

// pllegend's text scale and row spacing (in character heights), below.
constexpr double kLegendTextScale = 0.85, kLegendSpacing = 1.9;

// Room above the data for a legend of n entries in the current viewport, so
// it never hides data: the legend's height (rows of kLegendSpacing scaled
// character heights, its margins and offset) as a fraction f of the
// viewport, and the y range extended by f / (1 - f).
std::pair<double, double> with_headroom(std::pair<double, double> y, size_t n) {
    if (n == 0) return y;
    PLFLT def = 0, ht = 0, sx0 = 0, sx1 = 0, sy0 = 0, sy1 = 0, vx0 = 0, vx1 = 0, vy0 = 0, vy1 = 0;
    plgchr(&def, &ht);
    plgspa(&sx0, &sx1, &sy0, &sy1);
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    const double viewport_mm = (vy1 - vy0) * (sy1 - sy0);
    // 1.3: PLplot's rows come out taller than the text scale times the
    // spacing (measured on the figures: legends reached into the data).
    const double legend_mm = 1.3 * ht * kLegendTextScale * (kLegendSpacing * static_cast<double>(n) + 1.0) + 0.03 * viewport_mm;
    const double f = viewport_mm > 0 ? std::min(0.6, legend_mm / viewport_mm) : 0.3;
    y.second += (y.second - y.first) * f / (1 - f);
    return y;
}

// The entries a panel's legend lists: its series when there are several,
// and every labelled marker line.
std::vector<Entry> legend_entries(const std::vector<Entry>& series, const std::vector<Entry>& markers, bool legend) {
    std::vector<Entry> out;
    if (!legend) return out;
    if (series.size() > 1)
        for (const Entry& e : series)
            if (!e.label.empty()) out.push_back(e);
    for (const Entry& e : markers)
        if (!e.label.empty()) out.push_back(e);
    return out;
}

// PLplot's legend box in the top-right corner of the viewport.
void draw_legend(const std::vector<Entry>& entries) {
    if (entries.empty()) return;
    const size_t n = entries.size();
    std::vector<PLINT> opts(n), text_colours(n, 1), box_colours(n), box_patterns(n, 0), line_colours(n), line_styles(n),
        symbol_colours(n), symbol_numbers(n, 1);
    std::vector<PLFLT> box_scales(n, 0.8), box_widths(n, 1), line_widths(n, 2), symbol_scales(n, 1);
    std::vector<const char*> text(n), symbols(n, "•"); // as plpoin 17 draws
    for (size_t i = 0; i < n; ++i) {
        const Entry& e = entries[i];
        const PLINT c = kFirstColour + ((e.colour % 10) + 10) % 10;
        opts[i] = e.kind == Entry::Box      ? PL_LEGEND_COLOR_BOX
                  : e.kind == Entry::Points ? PL_LEGEND_SYMBOL
                  : e.kind == Entry::Line   ? PL_LEGEND_LINE
                                            : PL_LEGEND_LINE | PL_LEGEND_SYMBOL;
        box_colours[i] = line_colours[i] = symbol_colours[i] = c;
        line_styles[i] = e.dashed ? 2 : 1;
        text[i] = e.label.c_str();
    }
    PLFLT width = 0, height = 0;
    ink();
    pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_INSIDE | PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_VIEWPORT, 0.02, 0.03, 0.07, 0, 1, 1,
             0, 0, static_cast<PLINT>(n), opts.data(), 0.8, kLegendTextScale, kLegendSpacing, 0, text_colours.data(), text.data(),
             box_colours.data(), box_patterns.data(), box_scales.data(), box_widths.data(), line_colours.data(),
             line_styles.data(), line_widths.data(), symbol_colours.data(), symbol_scales.data(),
             symbol_numbers.data(), symbols.data());
    pllsty(1);
}

void error_bars(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& err) {
    std::vector<double> xs, lo, hi;
    for (size_t i = 0; i < x.size() && i < y.size() && i < err.size(); ++i)
        if (std::isfinite(x[i]) && std::isfinite(y[i]) && std::isfinite(err[i]))
            xs.push_back(x[i]), lo.push_back(y[i] - err[i]), hi.push_back(y[i] + err[i]);
    if (!xs.empty()) plerry(static_cast<PLINT>(xs.size()), xs.data(), lo.data(), hi.data());
}

// Draws the finite runs of a series as separate lines (a NaN breaks a line).
void finite_runs(const Series& s, size_t n) {
    std::vector<double> xs, ys;
    auto flush = [&] {
        if (xs.size() > 1) plline(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
        xs.clear(), ys.clear();
    };
    for (size_t i = 0; i < n; ++i) {
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) xs.push_back(s.x[i]), ys.push_back(s.y[i]);
        else flush();
    }
    flush();
}

void draw_lines(const Figure::Command& c, const std::vector<Entry>& markers) {
    double xl = std::numeric_limits<double>::infinity(), xh = -xl, yl = xl, yh = -xl;
    for (const auto& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                const double e = i < s.yerr.size() && std::isfinite(s.yerr[i]) ? std::abs(s.yerr[i]) : 0;
                xl = std::min(xl, s.x[i]), xh = std::max(xh, s.x[i]);
                yl = std::min(yl, s.y[i] - e), yh = std::max(yh, s.y[i] + e);
            }
    std::vector<Entry> entries;
    for (size_t k = 0; k < c.series.size(); ++k)
        entries.push_back({c.series[k].label, static_cast<int>(k), entry_kind(c.series[k].style)});
    const auto legend = legend_entries(entries, markers, c.axes.legend);
    const auto [x0, x1] = c.axes.xlim.value_or(padded(xl, xh, false));
    const auto [y0, y1] = c.axes.ylim.value_or(with_headroom(padded(yl, yh, false), legend.size()));
    frame(c.axes, x0, x1, y0, y1);
    for (size_t k = 0; k < c.series.size(); ++k) {
        const auto& s = c.series[k];
        const size_t n = std::min(s.x.size(), s.y.size());
        colour(static_cast<int>(k));
        plwidth(2.0);
        if (s.style != Series::Points) finite_runs(s, n);
        plwidth(1.0);
        if (s.style != Series::Line && n > 0) plpoin(static_cast<PLINT>(n), s.x.data(), s.y.data(), 17);
        error_bars(s.x, s.y, s.yerr);
    }
    draw_legend(legend);
}

void draw_bars(const Figure::Command& c, const std::vector<Entry>& markers) {
    const size_t n = c.strings.size(), g = std::max<size_t>(1, c.series.size());
    double yh = 0, yl = 0;
    for (const auto& s : c.series)
        for (size_t i = 0; i < s.y.size(); ++i)
            if (std::isfinite(s.y[i])) {
                const double e = i < s.yerr.size() && std::isfinite(s.yerr[i]) ? std::abs(s.yerr[i]) : 0;
                yh = std::max(yh, s.y[i] + e), yl = std::min(yl, s.y[i] - e);
            }
    std::vector<Entry> entries;
    for (size_t k = 0; k < c.series.size(); ++k) entries.push_back({c.series[k].label, static_cast<int>(k), Entry::Box});
    const auto legend = legend_entries(entries, markers, c.axes.legend);
    const auto [y0, y1] = c.axes.ylim.value_or(with_headroom(padded(yl, yh, true), legend.size()));
    frame(c.axes, 0, static_cast<double>(n), y0, y1, "bc");
    const double width = 0.8 / static_cast<double>(g);
    for (size_t k = 0; k < c.series.size(); ++k) {
        std::vector<double> centres;
        for (size_t i = 0; i < n; ++i) {
            const double left = static_cast<double>(i) + 0.1 + width * static_cast<double>(k);
            centres.push_back(left + width * 0.475);
            const double v = i < c.series[k].y.size() ? c.series[k].y[i] : std::nan("");
            if (!std::isfinite(v)) continue;
            colour(static_cast<int>(k));
            rect(left, left + width * 0.95, 0, v);
        }
        ink();
        error_bars(centres, c.series[k].y, c.series[k].yerr);
    }
    ink();
    // Category names that do not fit their slot are staggered over two
    // lines, and shrunk if that is not enough, rather than run together.
    PLFLT sx0 = 0, sx1 = 0, sy0 = 0, sy1 = 0, vx0 = 0, vx1 = 0, vy0 = 0, vy1 = 0, def = 0, ht = 0;
    plgspa(&sx0, &sx1, &sy0, &sy1);
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgchr(&def, &ht);
    const double slot_mm = (vx1 - vx0) * (sx1 - sx0) / static_cast<double>(std::max<size_t>(n, 1));
    double widest = 0;
    // PLplot 5.15 cannot measure a string: about 0.6 character heights per
    // character for DejaVu Sans (UTF-8 continuation bytes not counted).
    for (size_t i = 0; i < n; ++i) {
        const auto chars = std::count_if(c.strings[i].begin(), c.strings[i].end(),
                                         [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; });
        widest = std::max(widest, 0.6 * ht * static_cast<double>(chars));
    }
    const bool stagger = n > 1 && widest > 0.95 * slot_mm;
    const double room = (stagger ? 1.9 : 0.95) * slot_mm;
    const double shrink = widest > room ? room / widest : 1.0;
    if (shrink < 1) plschr(0, ht / def * shrink);
    for (size_t i = 0; i < n; ++i)
        plmtex("b", stagger && i % 2 ? 2.8 / shrink : 1.5, (static_cast<double>(i) + 0.5) / static_cast<double>(n), 0.5,
               c.strings[i].c_str());
    if (shrink < 1) plschr(0, ht / def);
    draw_legend(legend);
}

// Filled bars with outlines (one histogram) or step outlines (several).
void draw_binned(const Figure::Command& c, const std::vector<std::vector<double>>& edges,
                 const std::vector<std::vector<double>>& counts, const std::vector<Entry>& markers) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, top = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
        lo = std::min(lo, edges[k].front()), hi = std::max(hi, edges[k].back());
        for (const double v : counts[k])
            if (std::isfinite(v)) top = std::max(top, v);
    }
    if (!(hi > lo)) lo = 0, hi = 1;
    std::vector<Entry> entries;
    for (size_t k = 0; k < c.series.size(); ++k)
        entries.push_back({c.series[k].label, static_cast<int>(k), counts.size() == 1 ? Entry::Box : Entry::Line});
    const auto legend = legend_entries(entries, markers, c.axes.legend);
    const auto [x0, x1] = c.axes.xlim.value_or(std::make_pair(lo, hi));
    const auto [y0, y1] = c.axes.ylim.value_or(with_headroom(padded(0, top, true), legend.size()));
    frame(c.axes, x0, x1, y0, y1);
    for (size_t k = 0; k < counts.size(); ++k) {
        const auto& e = edges[k];
        const auto& h = counts[k];
        colour(static_cast<int>(k));
        if (counts.size() == 1) {
            for (size_t b = 0; b < h.size(); ++b)
                if (h[b] > 0) rect(e[b], e[b + 1], 0, h[b]);
            ink();
            for (size_t b = 0; b < h.size(); ++b) { // outlines so adjacent bars read apart
                const double xs[5] = {e[b], e[b + 1], e[b + 1], e[b], e[b]};
                const double ys[5] = {0, 0, h[b], h[b], 0};
                if (h[b] > 0) plline(5, xs, ys);
            }
        } else {
            std::vector<double> xs, ys;
            for (size_t b = 0; b < h.size(); ++b) {
                xs.insert(xs.end(), {e[b], e[b + 1]});
                ys.insert(ys.end(), {h[b], h[b]});
            }
            plwidth(2.0);
            plline(static_cast<int>(xs.size()), xs.data(), ys.data());
            plwidth(1.0);
        }
    }
    draw_legend(legend);
}

void draw_histograms(const Figure::Command& c, const std::vector<Entry>& markers) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : c.series)
        for (const double v : s.y)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (c.range) lo = c.range->first, hi = c.range->second;
    if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
    if (!(hi > lo)) hi = lo + 1;
    const int bins = std::max(1, c.bins);
    const double w = (hi - lo) / bins;
    std::vector<double> e;
    for (int b = 0; b <= bins; ++b) e.push_back(lo + b * w);
    std::vector<std::vector<double>> edges, counts;
    for (const auto& s : c.series) {
        std::vector<double> h(static_cast<size_t>(bins), 0);
        for (const double v : s.y) {
            if (!std::isfinite(v) || v < lo || v > hi) continue;
            h[static_cast<size_t>(std::min(bins - 1, static_cast<int>((v - lo) / w)))] += 1;
        }
        edges.push_back(e);
        counts.push_back(std::move(h));
    }
    draw_binned(c, edges, counts, markers);
}

void draw_text(const Figure::Command& c) {
    plwind(0, 1, 0, 1);
    ink();
    if (!c.axes.title.empty()) plmtex("t", 1.0, 0.5, 0.5, c.axes.title.c_str());
    for (size_t i = 0; i < c.strings.size(); ++i)
        plptex(0.02, 0.92 - 0.11 * static_cast<double>(i), 1, 0, 0, c.strings[i].c_str());
}

void draw_vline(const Figure::Command& c) {
    PLFLT x0, x1, y0, y1;
    plgvpw(&x0, &x1, &y0, &y1);
    const double xs[2] = {c.x, c.x}, ys[2] = {y0, y1};
    colour(c.colour);
    plwidth(2.0);
    pllsty(2);
    plline(2, xs, ys);
    pllsty(1);
    plwidth(1.0);
}

// Where an image panel goes, in pixels of the page: the panel's cell less
// room for its title, the image centred with its aspect ratio kept.
struct PixelBox {
    double x, y, w, h;
};

PixelBox fit(const PixelBox& cell, double image_w, double image_h) {
    const double s = std::min(cell.w / image_w, cell.h / image_h);
    return {cell.x + 0.5 * (cell.w - s * image_w), cell.y + 0.5 * (cell.h - s * image_h), s * image_w, s * image_h};
}

void paint_image(cairo_t* cr, cairo_surface_t* image, const PixelBox& box) {
    const double iw = cairo_image_surface_get_width(image), ih = cairo_image_surface_get_height(image);
    cairo_save(cr);
    cairo_translate(cr, box.x, box.y);
    cairo_scale(cr, box.w / iw, box.h / ih);
    cairo_set_source_surface(cr, image, 0, 0);
    // Nearest neighbour when enlarging keeps pixels honest; smooth when shrinking.
    cairo_pattern_set_filter(cairo_get_source(cr), box.w >= iw ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
}

Figure::Command& add(std::vector<std::vector<Figure::Command>>& panels, int panel) {
    if (panel < 0 || static_cast<size_t>(panel) >= panels.size())
        throw std::out_of_range("figure has no panel " + std::to_string(panel) + " (it has " +
                                std::to_string(panels.size()) + ")");
    panels[static_cast<size_t>(panel)].push_back({});
    return panels[static_cast<size_t>(panel)].back();
}

void check_series(const std::vector<Series>& series, bool need_x) {
    for (const Series& s : series) {
        if (need_x && s.x.size() != s.y.size())
            throw std::invalid_argument("series '" + s.label + "' has " + std::to_string(s.x.size()) + " x and " +
                                        std::to_string(s.y.size()) + " y values");
        if (!s.yerr.empty() && s.yerr.size() != s.y.size())
            throw std::invalid_argument("series '" + s.label + "' has " + std::to_string(s.yerr.size()) +
                                        " error bars for " + std::to_string(s.y.size()) + " values");
    }
}

} // namespace

Figure::Figure(int width_px, int height_px, int rows, int cols, std::string suptitle)
    : width_(width_px), height_(height_px), rows_(std::max(1, rows)), cols_(std::max(1, cols)),
      suptitle_(std::move(suptitle)), panels_(static_cast<size_t>(rows_ * cols_)) {
    if (width_px < 16 || height_px < 16)
        throw std::invalid_argument("figure size " + std::to_string(width_px) + " x " + std::to_string(height_px) +
                                    " px is too small");
}

Figure::~Figure() = default;

void Figure::lines(int panel, const Axes& axes, const std::vector<Series>& series) {
    check_series(series, true);
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Lines, c.axes = axes, c.series = series;
}

void Figure::bars(int panel, const Axes& axes, const std::vector<std::string>& categories, const std::vector<Series>& groups) {
    check_series(groups, false);
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Bars, c.axes = axes, c.strings = categories, c.series = groups;
}

void Figure::histogram(int panel, const Axes& axes, const std::vector<double>& values, int bins,
                       std::optional<std::pair<double, double>> range, const std::string& label) {
    histograms(panel, axes, {Series{label, {}, values}}, bins, range);
}

void Figure::histograms(int panel, const Axes& axes, const std::vector<Series>& samples, int bins,
                        std::optional<std::pair<double, double>> range) {
    if (bins < 1) throw std::invalid_argument("histogram needs at least one bin, got " + std::to_string(bins));
    if (range && !(range->second > range->first))
        throw std::invalid_argument("histogram range must be increasing");
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Histograms, c.axes = axes, c.series = samples, c.bins = bins, c.range = range;
}

void Figure::histogram_counts(int panel, const Axes& axes, const std::vector<double>& edges,
                              const std::vector<double>& counts, const std::string& label) {
    if (counts.empty() || edges.size() != counts.size() + 1)
        throw std::invalid_argument("histogram_counts needs one more edge than counts (got " +
                                    std::to_string(edges.size()) + " edges, " + std::to_string(counts.size()) +
                                    " counts)");
    for (size_t k = 0; k + 1 < edges.size(); ++k)
        if (!(edges[k + 1] > edges[k]) || !std::isfinite(edges[k]) || !std::isfinite(edges[k + 1]))
            throw std::invalid_argument("histogram_counts: edges must be finite and increasing (edge " +
                                        std::to_string(k + 1) + ")");
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::HistogramCounts, c.axes = axes, c.series = {Series{label, edges, counts}};
}

void Figure::text(int panel, const std::vector<std::string>& lines, const std::string& title) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Text, c.strings = lines, c.axes.title = title;
}

void Figure::vline(int panel, double x, const std::string& label, int colour_index) {
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::VLine, c.x = x, c.strings = {label}, c.colour = colour_index;
}

void Figure::image(int panel, const Overlay& overlay, const std::string& title) {
    cairo_surface_t* src = overlay.impl_->surface;
    cairo_surface_flush(src);
    const int w = cairo_image_surface_get_width(src), h = cairo_image_surface_get_height(src);
    // A copy: the overlay may change or go before the figure is saved.
    cairo_surface_t* copy = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t* cr = cairo_create(copy);
    cairo_set_source_surface(cr, src, 0, 0);
    cairo_paint(cr);
    cairo_destroy(cr);
    std::shared_ptr<cairo_surface_t> snapshot(copy, cairo_surface_destroy);
    if (cairo_surface_status(copy) != CAIRO_STATUS_SUCCESS) throw std::bad_alloc();
    auto& c = add(panels_, panel);
    c.kind = Command::Kind::Image, c.axes.title = title, c.image = std::move(snapshot);
}

void Figure::save_png(const std::string& path) const {
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) std::fclose(f);
    else throw std::runtime_error("cannot write figure '" + path + "': " + std::strerror(errno));

    std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> surface(
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, width_, height_), cairo_surface_destroy);
    std::unique_ptr<cairo_t, void (*)(cairo_t*)> cr(cairo_create(surface.get()), cairo_destroy);
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());

    const double top = suptitle_.empty() ? 0.97 : 0.92;
    const double cw = 1.0 / cols_, ch = top / rows_;
    std::vector<std::pair<cairo_surface_t*, PixelBox>> images;
    {
        std::lock_guard<std::mutex> lock(plplot_lock());
        PLINT previous = 0, stream = 0;
        plgstrm(&previous);
        plmkstrm(&stream);
        plsdev("extcairo");
        plspage(0, 0, width_, height_, 0, 0);
        plscmap0n(kFirstColour + 10);
        plscol0(0, 255, 255, 255);
        plscol0(1, 0, 0, 0);
        for (int i = 0; i < 10; ++i) {
            const Rgb c = palette(i);
            plscol0(kFirstColour + i, c.r, c.g, c.b);
        }
        plinit();
        pl_cmd(PLESC_DEVINIT, cr.get());
        pladv(0);
        plschr(0, 0.8);
        if (!suptitle_.empty()) {
            plvpor(0, 1, top, 1);
            plwind(0, 1, 0, 1);
            ink();
            plschr(0, 1.1);
            plptex(0.5, 0.4, 1, 0, 0.5, suptitle_.c_str());
            plschr(0, 0.8);
        }
        for (int p = 0; p < rows_ * cols_; ++p) {
            const int r = p / cols_, col = p % cols_;
            const auto& commands = panels_[static_cast<size_t>(p)];
            std::vector<Entry> markers;
            for (const auto& c : commands)
                if (c.kind == Command::Kind::VLine) markers.push_back({c.strings[0], c.colour, Entry::Line, true});
            // Margins leave room for the tick labels, axis labels and title;
            // the y label needs a fixed ~45 px more, whatever the panel width.
            plvpor(col * cw + 0.09 * cw + 0.03 + 45.0 / width_, (col + 1) * cw - 0.03, top - (r + 1) * ch + 0.2 * ch + 0.03,
                   top - r * ch - 0.1 * ch - 0.02);
            bool charted = false;
            for (const auto& c : commands) {
                switch (c.kind) {
                case Command::Kind::Lines: draw_lines(c, markers), charted = true; break;
                case Command::Kind::Bars: draw_bars(c, markers), charted = true; break;
                case Command::Kind::Histograms: draw_histograms(c, markers), charted = true; break;
                case Command::Kind::HistogramCounts:
                    draw_binned(c, {c.series[0].x}, {c.series[0].y}, markers), charted = true;
                    break;
                case Command::Kind::Text: draw_text(c); break;
                case Command::Kind::VLine: break;
                case Command::Kind::Image: {
                    // The cell less a title line; the title drawn by PLplot.
                    const double x0 = col * cw + 0.01 * cw, x1 = (col + 1) * cw - 0.01 * cw;
                    const double y0 = top - (r + 1) * ch + 0.01 * ch, y1 = top - r * ch - 0.09 * ch;
                    plvpor(x0, x1, y0, y1);
                    plwind(0, 1, 0, 1);
                    ink();
                    if (!c.axes.title.empty()) plmtex("t", 0.8, 0.5, 0.5, c.axes.title.c_str());
                    const PixelBox cell{x0 * width_, (1 - y1) * height_, (x1 - x0) * width_, (y1 - y0) * height_};
                    images.emplace_back(c.image.get(), fit(cell, cairo_image_surface_get_width(c.image.get()),
                                                           cairo_image_surface_get_height(c.image.get())));
                    break;
                }
                }
            }
            if (charted)
                for (const auto& c : commands)
                    if (c.kind == Command::Kind::VLine) draw_vline(c);
        }
        plend1();
        plsstrm(previous);
    }
    // A fresh context: PLplot's driver leaves its own transform on the one it drew with.
    std::unique_ptr<cairo_t, void (*)(cairo_t*)> painter(cairo_create(surface.get()), cairo_destroy);
    for (const auto& [image, box] : images) paint_image(painter.get(), image, box);
    cairo_surface_flush(surface.get());
    const cairo_status_t s = cairo_surface_write_to_png(surface.get(), path.c_str());
    if (s != CAIRO_STATUS_SUCCESS)
        throw std::runtime_error("cannot write figure '" + path + "': " + cairo_status_to_string(s));
}

} // namespace spotflow::plot

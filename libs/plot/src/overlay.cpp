// Overlay: an image drawn with cairo, marks in image pixel coordinates.
#include <cairo/cairo.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "overlay_impl.hpp"

namespace spotflow::plot {

namespace {
void set_colour(cairo_t* cr, int index) {
    const Rgb c = palette(index);
    cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

// The value at percentile p (0-100) of the finite pixels, by nearest rank.
float percentile(std::vector<float>& finite, double p) {
    if (finite.empty()) return 0;
    const auto k = static_cast<size_t>(std::lround(std::clamp(p, 0.0, 100.0) / 100.0 * (finite.size() - 1)));
    std::nth_element(finite.begin(), finite.begin() + static_cast<std::ptrdiff_t>(k), finite.end());
    return finite[k];
}

uint32_t packed(Rgb c) { return (uint32_t{c.r} << 16) | (uint32_t{c.g} << 8) | uint32_t{c.b}; }

// The overlay's surface: white, the RGB24 pixels scaled up by nearest
// neighbour under the title band, the font set.
void paint_pixels(Overlay::Impl& m, const std::vector<uint32_t>& rgb) {
    cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, m.width, m.height);
    cairo_surface_flush(img);
    unsigned char* data = cairo_image_surface_get_data(img);
    const int stride = cairo_image_surface_get_stride(img);
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x)
            reinterpret_cast<uint32_t*>(data + y * stride)[x] = rgb[static_cast<size_t>(y) * m.width + x];
    cairo_surface_mark_dirty(img);
    m.surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, m.width * m.scale + m.right, m.height * m.scale + m.band);
    m.cr = cairo_create(m.surface);
    cairo_set_source_rgb(m.cr, 1, 1, 1);
    cairo_paint(m.cr);
    cairo_save(m.cr);
    cairo_translate(m.cr, 0, m.band);
    cairo_scale(m.cr, m.scale, m.scale);
    cairo_set_source_surface(m.cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(m.cr), CAIRO_FILTER_NEAREST);
    cairo_paint(m.cr);
    cairo_restore(m.cr);
    cairo_surface_destroy(img);
    cairo_select_font_face(m.cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}
} // namespace

Rgb colormap(Colormap map, double t) {
    if (std::isnan(t)) return {0, 0, 0};
    t = std::clamp(t, 0.0, 1.0);
    if (map == Colormap::Grey) {
        const auto g = static_cast<unsigned char>(std::lround(t * 255));
        return {g, g, g};
    }
    // matplotlib's viridis at t = 0, 0.1, ..., 1.
    static const unsigned char v[11][3] = {{68, 1, 84},    {72, 36, 117},  {65, 68, 135},  {53, 95, 141},
                                           {42, 120, 142}, {33, 145, 140}, {34, 168, 132}, {68, 191, 112},
                                           {122, 209, 81}, {189, 223, 38}, {253, 231, 37}};
    const double f = t * 10;
    const int k = std::min(9, static_cast<int>(f));
    const double u = f - k;
    auto mix = [&](int c) { return static_cast<unsigned char>(std::lround(v[k][c] + u * (v[k + 1][c] - v[k][c]))); };
    return {mix(0), mix(1), mix(2)};
}

Overlay::Overlay(const float* image, int width, int height, int scale, double low_percentile, double high_percentile) {
    if (width <= 0 || height <= 0 || !image)
        throw std::invalid_argument("overlay: empty image (" + std::to_string(width) + " x " + std::to_string(height) + ")");
    if (!(low_percentile < high_percentile))
        throw std::invalid_argument("overlay: the low contrast percentile must be below the high one");
    impl_ = new Impl{width, height, std::max(1, scale), 28, nullptr, nullptr};
    Impl& m = *impl_;
    // Contrast between two percentiles (0.5 and 99.5 by default), so a few
    // hot pixels do not wash the movie out.
    std::vector<float> finite;
    finite.reserve(static_cast<size_t>(width) * height);
    for (size_t i = 0; i < static_cast<size_t>(width) * height; ++i)
        if (std::isfinite(image[i])) finite.push_back(image[i]);
    const float lo = percentile(finite, low_percentile);
    const float hi = percentile(finite, high_percentile);
    const float span = hi > lo ? hi - lo : 1;

    std::vector<uint32_t> rgb(static_cast<size_t>(width) * height);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            const float raw = image[static_cast<size_t>(y) * width + x];
            const float v = std::isfinite(raw) ? std::clamp((raw - lo) / span, 0.f, 1.f) : 0.f;
            const auto g = static_cast<uint32_t>(std::lround(v * 255));
            rgb[static_cast<size_t>(y) * width + x] = (g << 16) | (g << 8) | g;
        }
    paint_pixels(m, rgb);
}

Overlay::Overlay(const float* image, int width, int height, int scale, const ColourScale& colours) {
    if (width <= 0 || height <= 0 || !image)
        throw std::invalid_argument("overlay: empty image (" + std::to_string(width) + " x " + std::to_string(height) + ")");
    if (!(colours.vmin < colours.vmax) || !std::isfinite(colours.vmin) || !std::isfinite(colours.vmax))
        throw std::invalid_argument("overlay: the colour range needs finite vmin < vmax");
    impl_ = new Impl{width, height, std::max(1, scale), 28, nullptr, nullptr};
    Impl& m = *impl_;
    m.right = colours.colour_bar ? std::max(32, colours.bar_px) : 0;
    const double span = colours.vmax - colours.vmin;
    std::vector<uint32_t> rgb(static_cast<size_t>(width) * height);
    for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = packed(colormap(colours.map, (image[i] - colours.vmin) / span));
    paint_pixels(m, rgb);
    if (!colours.colour_bar) return;
    // The bar: one row per output pixel, vmax at the top.
    cairo_t* cr = m.cr;
    const double x0 = width * m.scale + 8, bw = 18, y0 = m.band + 6, y1 = m.band + height * m.scale - 6;
    for (int r = 0; r <= static_cast<int>(y1 - y0); ++r) {
        const Rgb c = colormap(colours.map, 1.0 - r / (y1 - y0));
        cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
        cairo_rectangle(cr, x0, y0 + r, bw, 1);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, bw - 1, y1 - y0);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 15);
    for (int k = 0; k <= 2; ++k) {
        const double v = colours.vmin + span * k / 2.0, y = y1 - (y1 - y0) * k / 2.0;
        char text[32];
        std::snprintf(text, sizeof text, "%g", v);
        cairo_move_to(cr, x0 + bw, y);
        cairo_line_to(cr, x0 + bw + 4, y);
        cairo_stroke(cr);
        cairo_move_to(cr, x0 + bw + 6, y + 4);
        cairo_show_text(cr, text);
    }
    if (!colours.label.empty()) {
        cairo_save(cr);
        cairo_move_to(cr, x0 + bw + 52, 0.5 * (y0 + y1));
        cairo_rotate(cr, -M_PI / 2);
        cairo_text_extents_t e;
        cairo_text_extents(cr, colours.label.c_str(), &e);
        cairo_rel_move_to(cr, -0.5 * e.width, 0);
        cairo_show_text(cr, colours.label.c_str());
        cairo_restore(cr);
    }
}

Overlay::~Overlay() {
    cairo_destroy(impl_->cr);
    cairo_surface_destroy(impl_->surface);
    delete impl_;
}

void Overlay::polyline(const std::vector<std::pair<double, double>>& xy, int colour_index, double line_width) {
    if (xy.empty()) return;
    cairo_t* cr = impl_->cr;
    set_colour(cr, colour_index);
    cairo_set_line_width(cr, line_width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_move_to(cr, impl_->ox(xy[0].first), impl_->oy(xy[0].second));
    for (size_t i = 1; i < xy.size(); ++i) cairo_line_to(cr, impl_->ox(xy[i].first), impl_->oy(xy[i].second));
    cairo_stroke(cr);
}

void Overlay::circle(double x, double y, double radius_px, int colour_index, double line_width) {
    cairo_t* cr = impl_->cr;
    set_colour(cr, colour_index);
    cairo_set_line_width(cr, line_width);
    cairo_new_sub_path(cr);
    cairo_arc(cr, impl_->ox(x), impl_->oy(y), radius_px * impl_->scale, 0, 2 * M_PI);
    cairo_stroke(cr);
}

void Overlay::cross(double x, double y, double size_px, int colour_index, double line_width) {
    cairo_t* cr = impl_->cr;
    const double h = 0.5 * size_px * impl_->scale, cx = impl_->ox(x), cy = impl_->oy(y);
    set_colour(cr, colour_index);
    cairo_set_line_width(cr, line_width);
    cairo_move_to(cr, cx - h, cy - h);
    cairo_line_to(cr, cx + h, cy + h);
    cairo_move_to(cr, cx - h, cy + h);
    cairo_line_to(cr, cx + h, cy - h);
    cairo_stroke(cr);
}

void Overlay::label(double x, double y, const std::string& text, int colour_index) {
    cairo_t* cr = impl_->cr;
    if (colour_index < 0) cairo_set_source_rgb(cr, 1, 1, 1);
    else set_colour(cr, colour_index);
    cairo_set_font_size(cr, 11);
    cairo_move_to(cr, impl_->ox(x) + 4, impl_->oy(y) - 4);
    cairo_show_text(cr, text.c_str());
}

void Overlay::title(const std::string& text) {
    cairo_t* cr = impl_->cr;
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 15);
    cairo_text_extents_t e;
    cairo_text_extents(cr, text.c_str(), &e);
    cairo_move_to(cr, 0.5 * (impl_->width * impl_->scale - e.width), 19);
    cairo_show_text(cr, text.c_str());
}

void Overlay::scale_bar(double length_px, const std::string& label) {
    cairo_t* cr = impl_->cr;
    const double len = length_px * impl_->scale;
    const double x1 = impl_->width * impl_->scale - 12, x0 = x1 - len;
    const double y = impl_->band + impl_->height * impl_->scale - 14;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 4);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x1, y);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 12);
    cairo_text_extents_t e;
    cairo_text_extents(cr, label.c_str(), &e);
    cairo_move_to(cr, 0.5 * (x0 + x1) - 0.5 * e.width, y - 7);
    cairo_show_text(cr, label.c_str());
}

void Overlay::legend(const std::vector<Key>& keys) {
    if (keys.empty()) return;
    cairo_t* cr = impl_->cr;
    cairo_set_font_size(cr, 13);
    double text_w = 0;
    for (const Key& k : keys) {
        cairo_text_extents_t e;
        cairo_text_extents(cr, k.name.c_str(), &e);
        text_w = std::max(text_w, e.x_advance);
    }
    const double row = 18, pad = 6, mark = 14;
    const double w = pad + mark + pad + text_w + pad, h = pad + row * static_cast<double>(keys.size()) + pad / 2;
    const double x0 = impl_->width * impl_->scale - w - 6, y0 = impl_->band + 6;
    cairo_set_source_rgba(cr, 0, 0, 0, 0.65);
    cairo_rectangle(cr, x0, y0, w, h);
    cairo_fill(cr);
    for (size_t i = 0; i < keys.size(); ++i) {
        const double cx = x0 + pad + mark / 2, cy = y0 + pad + row * (static_cast<double>(i) + 0.5);
        set_colour(cr, keys[i].colour_index);
        cairo_set_line_width(cr, 2);
        switch (keys[i].mark) {
        case Mark::Circle:
            cairo_new_sub_path(cr);
            cairo_arc(cr, cx, cy, mark / 2 - 1, 0, 2 * M_PI);
            break;
        case Mark::Cross:
            cairo_move_to(cr, cx - mark / 2 + 1, cy - mark / 2 + 1);
            cairo_line_to(cr, cx + mark / 2 - 1, cy + mark / 2 - 1);
            cairo_move_to(cr, cx - mark / 2 + 1, cy + mark / 2 - 1);
            cairo_line_to(cr, cx + mark / 2 - 1, cy - mark / 2 + 1);
            break;
        case Mark::Line:
            cairo_move_to(cr, cx - mark / 2, cy);
            cairo_line_to(cr, cx + mark / 2, cy);
            break;
        }
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_move_to(cr, x0 + pad + mark + pad, cy + 4.5);
        cairo_show_text(cr, keys[i].name.c_str());
    }
}

int Overlay::width_px() const { return impl_->width * impl_->scale + impl_->right; }
int Overlay::height_px() const { return impl_->height * impl_->scale + impl_->band; }

void Overlay::save_png(const std::string& path) const {
    cairo_surface_flush(impl_->surface);
    const cairo_status_t s = cairo_surface_write_to_png(impl_->surface, path.c_str());
    if (s != CAIRO_STATUS_SUCCESS)
        throw std::runtime_error("cannot write figure '" + path + "': " + cairo_status_to_string(s));
}

} // namespace spotflow::plot

// Overlay: an image drawn with cairo, marks in image pixel coordinates.
#include <cairo/cairo.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "spotflow_plot/plot.hpp"

namespace spotflow::plot {

struct Overlay::Impl {
    int width, height, scale, band;
    cairo_surface_t* surface;
    cairo_t* cr;
    // Output position of image coordinate v: pixel centres at (k + 0.5) * scale.
    double ox(double x) const { return (x + 0.5) * scale; }
    double oy(double y) const { return band + (y + 0.5) * scale; }
};

namespace {
void set_colour(cairo_t* cr, int index) {
    const Rgb c = palette(index);
    cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}
} // namespace

Overlay::Overlay(const float* image, int width, int height, int scale) : impl_(new Impl{width, height, std::max(1, scale), 28, nullptr, nullptr}) {
    Impl& m = *impl_;
    // Contrast: 0.5 and 99.5 percentiles, so a few hot pixels do not wash
    // the movie out.
    std::vector<float> sorted(image, image + static_cast<size_t>(width) * height);
    std::sort(sorted.begin(), sorted.end());
    const float lo = sorted.empty() ? 0 : sorted[sorted.size() / 200];
    const float hi = sorted.empty() ? 1 : sorted[sorted.size() - 1 - sorted.size() / 200];
    const float span = hi > lo ? hi - lo : 1;

    cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_surface_flush(img);
    unsigned char* data = cairo_image_surface_get_data(img);
    const int stride = cairo_image_surface_get_stride(img);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            const float v = std::clamp((image[static_cast<size_t>(y) * width + x] - lo) / span, 0.f, 1.f);
            const auto g = static_cast<uint32_t>(std::lround(v * 255));
            reinterpret_cast<uint32_t*>(data + y * stride)[x] = (g << 16) | (g << 8) | g;
        }
    cairo_surface_mark_dirty(img);

    m.surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width * m.scale, height * m.scale + m.band);
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

void Overlay::save_png(const std::string& path) const {
    cairo_surface_flush(impl_->surface);
    const cairo_status_t s = cairo_surface_write_to_png(impl_->surface, path.c_str());
    if (s != CAIRO_STATUS_SUCCESS)
        throw std::runtime_error("cannot write figure '" + path + "': " + cairo_status_to_string(s));
}

} // namespace spotflow::plot

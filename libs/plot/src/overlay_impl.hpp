// Overlay's state, shared with Figure, which paints overlays into panels.
#pragma once

#include <cairo/cairo.h>

#include "spotflow_plot/plot.hpp"

namespace spotflow::plot {

struct Overlay::Impl {
    int width, height, scale, band;
    cairo_surface_t* surface;
    cairo_t* cr;
    int right = 0; // extra columns right of the image (a colour bar)
    // Output position of image coordinate v: pixel centres at (k + 0.5) * scale.
    double ox(double x) const { return (x + 0.5) * scale; }
    double oy(double y) const { return band + (y + 0.5) * scale; }
};

} // namespace spotflow::plot

// Photometry of a punctum: mean in a circular aperture minus the median of
// a surrounding annulus (the local background).
#pragma once

#include <optional>
#include <vector>

namespace calcium_dff {

struct Aperture {
    double radius = 2.0;          // px, pixels whose centres lie within
    double annulus_inner = 4.0;   // px
    double annulus_outer = 7.0;   // px
};

// nullopt when the aperture has no pixel inside the frame or the annulus
// has fewer than 4.
std::optional<double> measure(const std::vector<float>& frame, int width, int height, double x, double y,
                              const Aperture& a);

} // namespace calcium_dff

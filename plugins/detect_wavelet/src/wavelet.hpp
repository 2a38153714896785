// The a trous (undecimated) B3-spline wavelet transform used for spot
// detection (Olivo-Marin 2002; ThunderSTORM's "Wavelet filter (B-Spline)").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace detect_wavelet {

// One frame as float, row-major, height x width.
struct Image {
    int width = 0, height = 0;
    std::vector<float> pixels;
    float at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

// The first two wavelet planes: W1 = V0 - V1 carries pixel noise, W2 = V1 - V2
// carries spot-sized structure. V_j is V_{j-1} smoothed by the B3 kernel
// [1 4 6 4 1]/16 with 2^(j-1) - 1 holes, borders mirrored.
struct WaveletPlanes {
    Image w1, w2;
};

WaveletPlanes wavelet_planes(const Image& v0);

// Robust standard deviation 1.4826 * MAD of a plane (the noise level the
// threshold is scaled by; unlike the plain std it ignores the spots).
double robust_std(const Image& plane);

struct Peak {
    int x, y;
    float value;
};

// Pixels of `plane` above `threshold` that are maxima of their 3x3
// neighbourhood (a tie goes to the first pixel in raster order), at least
// `border` pixels from the edge.
std::vector<Peak> local_maxima(const Image& plane, float threshold, int border);

} // namespace detect_wavelet

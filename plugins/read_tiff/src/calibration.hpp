// Pixel size and frame interval as a TIFF records them: ImageJ's
// ImageDescription ("unit=micron", "finterval=0.05") with XResolution as
// pixels per unit, or else XResolution with a ResolutionUnit of inch or cm.
#pragma once

#include <cstdint>
#include <string_view>

namespace read_tiff {

struct Calibration {
    double pixel_size_nm = 0;    // 0: unknown
    double frame_interval_s = 0; // 0: unknown
    int64_t imagej_channels = 1; // > 1: an ImageJ hyperstack interleaving channels
};

// description: page 0's ImageDescription ("" if none); x_resolution: its
// XResolution (0 if none); resolution_unit: its ResolutionUnit (RESUNIT_*).
Calibration parse_calibration(std::string_view description, double x_resolution, int resolution_unit);

} // namespace read_tiff

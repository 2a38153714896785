// Single 2-D images in TIFF files: the size of a file's first page without
// reading its pixels, the first page as float32 (any integer or float
// sample format, one sample per pixel, strips or tiles), and a float32 or
// uint8 image written whole. The segmentation plugins' image I/O
// (read.image_set, segment.unet, train.unet, review.flag, sim.spheroids).
// Threading: no shared state; one file per call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spotflow/host.h"

namespace tiffio {

struct ImageInfo {
    int64_t width = 0, height = 0;
    int bits = 0;          // bits per sample
    bool is_float = false; // IEEE float samples
    bool is_signed = false;
    int64_t pages = 1;
};

// Throws spotflow::PluginError (IO or FORMAT) naming the file: missing,
// not a TIFF, more than one sample per pixel, an unsupported sample format.
ImageInfo image_info(const spotflow_host* host, const std::string& path);

struct Image {
    int64_t width = 0, height = 0;
    std::vector<float> pixels; // row-major, height x width
    ImageInfo info;
    float at(int64_t x, int64_t y) const { return pixels[static_cast<size_t>(y * width + x)]; }
};

// The first page as float32. Throws as image_info, and for a truncated file.
Image read_image(const spotflow_host* host, const std::string& path);

// Writes one page, uncompressed (whole or not at all is the host's output
// rule: write to a path from output_path). Throws PluginError (IO).
void write_image_f32(const spotflow_host* host, const std::string& path, int64_t width, int64_t height,
                     const float* pixels);
void write_image_u8(const spotflow_host* host, const std::string& path, int64_t width, int64_t height,
                    const uint8_t* pixels);
void write_image_u16(const spotflow_host* host, const std::string& path, int64_t width, int64_t height,
                     const uint16_t* pixels);

} // namespace tiffio

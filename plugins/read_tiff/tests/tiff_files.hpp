// Test movies written with libtiff (and one TIFF laid out by hand), so the
// reader's tests control every tag.
#pragma once

#include <tiffio.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace read_tiff_test {

struct TiffOptions {
    bool bigtiff = false;
    bool big_endian = false;
    uint16_t compression = COMPRESSION_NONE;
    uint32_t rows_per_strip = 0; // 0: one strip per page
    uint32_t tile_size = 0;      // > 0: tiled pages of tile_size x tile_size
    uint16_t samples = 1;
    std::string description;
    float x_resolution = 0; // 0: no resolution tags
    uint16_t resolution_unit = RESUNIT_NONE;
};

template <class T> uint16_t sample_format() {
    if (std::is_floating_point_v<T>) return SAMPLEFORMAT_IEEEFP;
    return std::is_signed_v<T> ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
}

// A deterministic pixel value that differs across t, y and x, with negative
// and fractional values where the type has them.
template <class T> T pattern(int64_t t, int64_t y, int64_t x) {
    const int64_t v = (t * 37 + y * 11 + x * 3) % 97;
    if (std::is_floating_point_v<T>) return static_cast<T>(v * 0.25 - 10);
    if (std::is_signed_v<T>) return static_cast<T>(v - 48);
    return static_cast<T>(v);
}

template <class T> std::vector<T> pattern_movie(int64_t frames, int64_t height, int64_t width) {
    std::vector<T> v;
    v.reserve(static_cast<size_t>(frames * height * width));
    for (int64_t t = 0; t < frames; ++t)
        for (int64_t y = 0; y < height; ++y)
            for (int64_t x = 0; x < width; ++x) v.push_back(pattern<T>(t, y, x));
    return v;
}

// Writes pixels (frames x height x width x samples) as a multi-page TIFF.
template <class T> void write_tiff(const std::string& path, const std::vector<T>& pixels, uint32_t frames,
                                   uint32_t height, uint32_t width, const TiffOptions& o = {}) {
    std::string mode = "w";
    if (o.bigtiff) mode += "8";
    if (o.big_endian) mode += "b";
    TIFF* tif = TIFFOpen(path.c_str(), mode.c_str());
    if (!tif) throw std::runtime_error("cannot write " + path);
    const size_t page = size_t{height} * width * o.samples;
    for (uint32_t t = 0; t < frames; ++t) {
        TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
        TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
        TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, o.samples);
        TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(sizeof(T) * 8));
        TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, sample_format<T>());
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, o.samples == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
        TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, o.compression);
        if (t == 0 && !o.description.empty()) TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, o.description.c_str());
        if (o.x_resolution > 0) {
            TIFFSetField(tif, TIFFTAG_XRESOLUTION, o.x_resolution);
            TIFFSetField(tif, TIFFTAG_YRESOLUTION, o.x_resolution);
            TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, o.resolution_unit);
        }
        const T* frame = pixels.data() + t * page;
        if (o.tile_size > 0) {
            TIFFSetField(tif, TIFFTAG_TILEWIDTH, o.tile_size);
            TIFFSetField(tif, TIFFTAG_TILELENGTH, o.tile_size);
            std::vector<T> tile(size_t{o.tile_size} * o.tile_size * o.samples);
            for (uint32_t y0 = 0; y0 < height; y0 += o.tile_size)
                for (uint32_t x0 = 0; x0 < width; x0 += o.tile_size) {
                    std::fill(tile.begin(), tile.end(), T{});
                    for (uint32_t y = y0; y < std::min(height, y0 + o.tile_size); ++y)
                        for (uint32_t x = x0; x < std::min(width, x0 + o.tile_size); ++x)
                            for (uint16_t s = 0; s < o.samples; ++s)
                                tile[((y - y0) * o.tile_size + (x - x0)) * o.samples + s] =
                                    frame[(size_t{y} * width + x) * o.samples + s];
                    TIFFWriteTile(tif, tile.data(), x0, y0, 0, 0);
                }
        } else {
            const uint32_t rows = o.rows_per_strip ? o.rows_per_strip : height;
            TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows);
            for (uint32_t y = 0, s = 0; y < height; y += rows, ++s) {
                // A copy: libtiff byte-swaps the buffer in place for big-endian files.
                const T* first = frame + size_t{y} * width * o.samples;
                std::vector<T> strip(first, first + size_t{std::min(rows, height - y)} * width * o.samples);
                TIFFWriteEncodedStrip(tif, s, strip.data(), static_cast<tmsize_t>(strip.size() * sizeof(T)));
            }
        }
        if (!TIFFWriteDirectory(tif)) throw std::runtime_error("cannot write page of " + path);
    }
    TIFFClose(tif);
}

// A classic little-endian uint16 TIFF laid out as cameras stream it: each
// page's IFD comes before its pixels, in strips of one row. Cutting such a
// file inside page k's pixels keeps pages 0..k listed.
inline void write_ifd_first_tiff(const std::string& path, const std::vector<uint16_t>& pixels, uint32_t frames,
                                 uint32_t height, uint32_t width) {
    std::vector<uint8_t> out = {'I', 'I', 42, 0, 8, 0, 0, 0};
    const auto put = [&out](uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    const uint32_t entries = 9;
    const uint32_t ifd_bytes = 2 + entries * 12 + 4;
    const uint32_t row_bytes = width * 2;
    for (uint32_t t = 0; t < frames; ++t) {
        const uint32_t ifd = static_cast<uint32_t>(out.size());
        const uint32_t offsets_at = ifd + ifd_bytes;
        const uint32_t counts_at = offsets_at + 4 * height;
        const uint32_t data_at = counts_at + 4 * height;
        const uint32_t next = t + 1 < frames ? data_at + row_bytes * height : 0;
        const auto entry = [&](uint16_t tag, uint16_t type, uint32_t count, uint32_t value) {
            put(tag, 2), put(type, 2), put(count, 4), put(value, 4);
        };
        put(entries, 2);
        entry(256, 4, 1, width);
        entry(257, 4, 1, height);
        entry(258, 3, 1, 16);
        entry(259, 3, 1, 1);
        entry(262, 3, 1, 1);
        entry(273, 4, height, offsets_at);
        entry(277, 3, 1, 1);
        entry(278, 4, 1, 1);
        entry(279, 4, height, counts_at);
        put(next, 4);
        for (uint32_t y = 0; y < height; ++y) put(data_at + y * row_bytes, 4);
        for (uint32_t y = 0; y < height; ++y) put(row_bytes, 4);
        for (size_t i = 0; i < size_t{height} * width; ++i) put(pixels[t * size_t{height} * width + i], 2);
    }
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), out.size());
}

// Bytes one page of a write_ifd_first_tiff file takes: IFD, strip tables, pixels.
inline size_t ifd_first_page_bytes(uint32_t height, uint32_t width) {
    return 2 + 9 * 12 + 4 + 8 * size_t{height} + 2 * size_t{height} * width;
}

} // namespace read_tiff_test

#include "tiffio/image.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"
#include "tiffio/movie_writer.hpp"
#include "tiffio/tiff_errors.hpp"

namespace tiffio {

using spotflow::PluginError;

namespace {

struct Handle {
    TiffErrors errors;
    TIFF* tif = nullptr;
    Handle(const spotflow_host* host, const std::string& path) : errors(host, path, "image ") {
        tif = errors.open("r");
        if (!tif) {
            std::string why = errors.take_error();
            throw PluginError(SPOTFLOW_ERR_IO, fmt::format("image '{}': cannot open: {}", path, why.empty() ? "not a TIFF file" : why));
        }
    }
    ~Handle() {
        if (tif) TIFFClose(tif);
    }
};

ImageInfo info_of(TIFF* t, const std::string& path) {
    uint32_t w = 0, h = 0;
    uint16_t bits = 0, spp = 1, fmt_ = SAMPLEFORMAT_UINT;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt_);
    if (spp != 1)
        throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}': {} samples per pixel; a greyscale image (1) is expected", path, spp));
    ImageInfo i;
    i.width = w;
    i.height = h;
    i.bits = bits;
    i.is_float = fmt_ == SAMPLEFORMAT_IEEEFP;
    i.is_signed = fmt_ == SAMPLEFORMAT_INT;
    const bool ok = i.is_float ? (bits == 32 || bits == 64) : (bits == 8 || bits == 16 || bits == 32 || (bits == 1 && !i.is_signed));
    if (!ok || (fmt_ != SAMPLEFORMAT_UINT && fmt_ != SAMPLEFORMAT_INT && fmt_ != SAMPLEFORMAT_IEEEFP))
        throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}': unsupported samples ({} bits, format {})", path, bits, fmt_));
    if (w == 0 || h == 0) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}': empty image ({} x {})", path, w, h));
    i.pages = TIFFNumberOfDirectories(t);
    return i;
}

template <class T> void convert(const unsigned char* src, float* dst, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
        T v;
        std::memcpy(&v, src + k * static_cast<int64_t>(sizeof(T)), sizeof(T));
        dst[k] = static_cast<float>(v);
    }
}

void convert_row(const ImageInfo& i, const unsigned char* src, float* dst, int64_t n) {
    if (i.bits == 1) {
        for (int64_t k = 0; k < n; ++k) dst[k] = (src[k / 8] >> (7 - k % 8)) & 1;
    } else if (i.is_float) {
        if (i.bits == 32) convert<float>(src, dst, n);
        else convert<double>(src, dst, n);
    } else if (i.is_signed) {
        if (i.bits == 8) convert<int8_t>(src, dst, n);
        else if (i.bits == 16) convert<int16_t>(src, dst, n);
        else convert<int32_t>(src, dst, n);
    } else {
        if (i.bits == 8) convert<uint8_t>(src, dst, n);
        else if (i.bits == 16) convert<uint16_t>(src, dst, n);
        else convert<uint32_t>(src, dst, n);
    }
}

} // namespace

ImageInfo image_info(const spotflow_host* host, const std::string& path) {
    Handle h(host, path);
    return info_of(h.tif, path);
}

Image read_image(const spotflow_host* host, const std::string& path) {
    Handle h(host, path);
    Image img;
    img.info = info_of(h.tif, path);
    img.width = img.info.width;
    img.height = img.info.height;
    img.pixels.resize(static_cast<size_t>(img.width * img.height));
    const auto fail = [&](const char* what) {
        std::string why = h.errors.take_error();
        throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}': {}{}{}", path, what, why.empty() ? "" : ": ", why));
    };
    if (TIFFIsTiled(h.tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(h.tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(h.tif, TIFFTAG_TILELENGTH, &th);
        if (img.info.bits == 1) fail("1-bit tiled images are not supported");
        std::vector<unsigned char> buf(static_cast<size_t>(TIFFTileSize(h.tif)));
        std::vector<float> row(tw);
        const int64_t bps = img.info.bits / 8;
        for (uint32_t y0 = 0; y0 < img.height; y0 += th)
            for (uint32_t x0 = 0; x0 < img.width; x0 += tw) {
                if (TIFFReadTile(h.tif, buf.data(), x0, y0, 0, 0) < 0) fail("truncated or corrupt tile");
                for (uint32_t y = 0; y < th && y0 + y < img.height; ++y) {
                    const int64_t n = std::min<int64_t>(tw, img.width - x0);
                    convert_row(img.info, buf.data() + static_cast<int64_t>(y) * tw * bps, row.data(), n);
                    std::copy_n(row.data(), n, img.pixels.data() + (y0 + y) * img.width + x0);
                }
            }
        return img;
    }
    std::vector<unsigned char> buf(static_cast<size_t>(TIFFScanlineSize(h.tif)));
    for (int64_t y = 0; y < img.height; ++y) {
        if (TIFFReadScanline(h.tif, buf.data(), static_cast<uint32_t>(y), 0) < 0) fail("truncated or corrupt pixel data");
        convert_row(img.info, buf.data(), img.pixels.data() + y * img.width, img.width);
    }
    return img;
}

namespace {
void write_page(const spotflow_host* host, const std::string& path, int64_t width, int64_t height, const void* pixels,
                DLDataType dtype) {
    MovieFormat f;
    f.width = width;
    f.height = height;
    f.dtype = dtype;
    MovieWriter w(host, path, f, 1, false);
    w.write_frames(static_cast<const unsigned char*>(pixels), 1);
    w.close();
}
} // namespace

void write_image_f32(const spotflow_host* host, const std::string& path, int64_t width, int64_t height, const float* pixels) {
    write_page(host, path, width, height, pixels, DLDataType{kDLFloat, 32, 1});
}
void write_image_u8(const spotflow_host* host, const std::string& path, int64_t width, int64_t height, const uint8_t* pixels) {
    write_page(host, path, width, height, pixels, DLDataType{kDLUInt, 8, 1});
}
void write_image_u16(const spotflow_host* host, const std::string& path, int64_t width, int64_t height, const uint16_t* pixels) {
    write_page(host, path, width, height, pixels, DLDataType{kDLUInt, 16, 1});
}

} // namespace tiffio

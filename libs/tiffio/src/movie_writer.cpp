#include "tiffio/movie_writer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"

namespace tiffio {

using spotflow::PluginError;

namespace {

// Classic TIFF offsets are 32-bit; leave room for the IFDs.
constexpr double kClassicTiffLimitBytes = 3.9 * (1ull << 30);
constexpr int64_t kStripBytes = 64 * 1024;

uint16_t sample_format(DLDataType t) {
    if (t.code == kDLFloat) return SAMPLEFORMAT_IEEEFP;
    return t.code == kDLInt ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
}

} // namespace

MovieWriter::MovieWriter(const spotflow_host* host, std::string path, const MovieFormat& format, int64_t total_frames,
                         bool bigtiff)
    : host_(host), path_(std::move(path)), format_(format), bigtiff_(bigtiff), announced_frames_(total_frames) {
    const double bytes = static_cast<double>(format_.frame_bytes()) * static_cast<double>(total_frames);
    if (!bigtiff_ && bytes > kClassicTiffLimitBytes) {
        bigtiff_ = true;
        host_->log(host_, SPOTFLOW_LOG_INFO,
                   fmt::format("'{}': {} frames take {:.1f} GiB, more than a classic TIFF holds; writing BigTIFF",
                               path_, total_frames, bytes / (1ull << 30))
                       .c_str());
    }
    // Native byte order ("w", not "wb"/"wl"): libtiff then never byte-swaps
    // the caller's buffer, which is a borrowed, read-only packet.
    file_ = std::make_unique<TiffFile>(host_, path_, bigtiff_ ? "w8" : "w");
}

void MovieWriter::write_frames(const unsigned char* data, int64_t count) {
    for (int64_t i = 0; i < count; ++i) write_page(data + i * format_.frame_bytes());
}

void MovieWriter::write_page(const unsigned char* page) {
    TIFF* t = file_->get();
    const auto width = static_cast<uint32_t>(format_.width);
    const auto height = static_cast<uint32_t>(format_.height);
    const int64_t row_bytes = format_.frame_bytes() / format_.height;
    const auto rows_per_strip = static_cast<uint32_t>(std::clamp<int64_t>(kStripBytes / row_bytes, 1, height));

    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t{1});
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(format_.dtype.bits));
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, sample_format(format_.dtype));
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    TIFFSetField(t, TIFFTAG_SOFTWARE, format_.software.c_str());
    if (frames_ == 0) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, description(announced_frames_).c_str());
    if (format_.pixel_size_nm > 0) {
        // ImageJ's convention: resolution in pixels per "unit=" of the description, unit tag none.
        const double per_micron = 1000.0 / format_.pixel_size_nm;
        TIFFSetField(t, TIFFTAG_XRESOLUTION, per_micron);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, per_micron);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, uint16_t{RESUNIT_NONE});
    }

    bool written = true;
    for (uint32_t y = 0, strip = 0; written && y < height; y += rows_per_strip, ++strip) {
        const uint32_t rows = std::min(rows_per_strip, height - y);
        // const_cast: libtiff takes void* but does not write to an
        // uncompressed, native-order buffer.
        void* data = const_cast<unsigned char*>(page + int64_t{y} * row_bytes);
        written = TIFFWriteEncodedStrip(t, strip, data, static_cast<tmsize_t>(rows * row_bytes)) >= 0;
    }
    if (!written || !TIFFWriteDirectory(t)) {
        std::string why = file_->take_error();
        if (!bigtiff_ && why.find("Maximum TIFF file size exceeded") != std::string::npos)
            why += " (set bigtiff: true for movies over 4 GiB)";
        throw PluginError(SPOTFLOW_ERR_IO, fmt::format("cannot write page {} of '{}': {}", frames_, path_, why));
    }
    ++frames_;
}

std::string MovieWriter::description(int64_t frames) const {
    std::string d = "ImageJ=1.11a\n";
    if (frames > 0) d += fmt::format("images={}\nframes={}\n", frames, frames);
    if (format_.pixel_size_nm > 0) d += "unit=micron\n";
    if (format_.frame_interval_s > 0) d += fmt::format("finterval={}\n", format_.frame_interval_s);
    return d + "loop=false\n";
}

void MovieWriter::close() {
    file_->close();
    file_.reset();
    if (frames_ != announced_frames_) rewrite_description();
}

// Page 0 went out before the frame count was known (or the stream ended
// early): libtiff appends the updated IFD and relinks it in place of the old.
void MovieWriter::rewrite_description() {
    TiffFile f(host_, path_, "r+");
    if (!TIFFSetField(f.get(), TIFFTAG_IMAGEDESCRIPTION, description(frames_).c_str()) ||
        !TIFFRewriteDirectory(f.get()))
        throw PluginError(SPOTFLOW_ERR_IO,
                          fmt::format("cannot update the description of '{}': {}", path_, f.take_error()));
    f.close();
}

} // namespace tiffio

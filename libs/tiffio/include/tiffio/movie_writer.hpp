// Writes a movie as a multi-page TIFF (or BigTIFF), page by page as chunks
// arrive, uncompressed, with an ImageJ ImageDescription on page 0 (images=,
// frames=, unit=micron, finterval=) and the pixel size as resolution.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <dlpack/dlpack.h>

#include "spotflow/host.h"
#include "tiffio/tiff_file.hpp"

namespace tiffio {

struct MovieFormat {
    int64_t height = 0;
    int64_t width = 0;
    DLDataType dtype{kDLUInt, 16, 1};
    double pixel_size_nm = 0;    // 0: unknown, no resolution written
    double frame_interval_s = 0; // 0: unknown
    std::string software = "spotflow"; // the Software tag: who wrote the file

    int64_t frame_bytes() const { return height * width * (dtype.bits / 8); }
};

class MovieWriter {
public:
    // Creates path. total_frames < 0 if unknown; when known and the pixels
    // would not fit a classic TIFF, writes BigTIFF even if bigtiff is false.
    MovieWriter(const spotflow_host* host, std::string path, const MovieFormat& format, int64_t total_frames,
                bool bigtiff);

    // count frames of format().frame_bytes() each, compact.
    void write_frames(const unsigned char* data, int64_t count);
    // Closes the file; rewrites page 0's description if the frame count
    // differs from the one it announced.
    void close();

    const MovieFormat& format() const { return format_; }
    int64_t frames() const { return frames_; }

private:
    void write_page(const unsigned char* page);
    std::string description(int64_t frames) const;
    void rewrite_description();

    const spotflow_host* host_;
    std::string path_;
    MovieFormat format_;
    bool bigtiff_;
    int64_t announced_frames_; // images= on page 0; < 0 if not written
    int64_t frames_ = 0;
    std::unique_ptr<TiffFile> file_;
};

} // namespace tiffio

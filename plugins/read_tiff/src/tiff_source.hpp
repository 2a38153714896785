// Multi-page TIFF and BigTIFF read page by page with libtiff, so memory
// follows the chunk size, not the movie size.
#pragma once

#include <tiffio.h>

#include <memory>
#include <string>

#include "movie_source.hpp"
#include "spotflow/host.h"
#include "tiffio/tiff_errors.hpp"

namespace read_tiff {

// True if the file starts with a TIFF or BigTIFF signature.
bool has_tiff_magic(const unsigned char* head, size_t n);

class TiffSource final : public MovieSource {
public:
    // Opens path, counts its pages and checks page 0; throws PluginError.
    // allow_truncated: keep the whole pages before a broken page chain
    // (with a warning) instead of failing.
    TiffSource(const spotflow_host* host, std::string path, bool allow_truncated);
    TiffSource(const TiffSource&) = delete;
    TiffSource& operator=(const TiffSource&) = delete;

    void read_frames(int64_t first, int64_t count, void* dst) override;

private:
    struct Closer {
        void operator()(TIFF* t) const { TIFFClose(t); }
    };
    std::string take_error() { return errors_.take_error(); }

    void go_to_page(int64_t page);
    void check_page(int64_t page) const;
    void check_declared_size(int64_t page) const;
    void read_page(int64_t page, unsigned char* dst);
    void read_strips(int64_t page, unsigned char* dst);
    void read_tiles(int64_t page, unsigned char* dst);
    [[noreturn]] void fail_read(int64_t page);

    const spotflow_host* host_;
    std::string path_;
    tiffio::TiffErrors errors_; // libtiff's errors and warnings; declared before tif_, which reports into it
    std::unique_ptr<TIFF, Closer> tif_;
    int64_t page_ = 0; // the directory libtiff is on
    uint64_t file_size_ = 0;
};

} // namespace read_tiff

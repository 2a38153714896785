// libtiff's error and warning handlers for one file, the one home for them
// (write.tiff's and sim.dataset's TiffFile, read.tiff's TiffSource): libtiff
// never prints; its first error since take_error() is kept for the caller's
// one-line error, and its warnings (mostly unknown private tags) go to the
// host's log at debug level.
// Threading and ownership: one TiffErrors per open file, used by the thread
// that uses the file; it must outlive the TIFF* it opened.
#pragma once

#include <tiffio.h>

#include <string>

#include "spotflow/host.h"

namespace tiffio {

class TiffErrors {
public:
    // host may be NULL (warnings are then dropped).
    // label: how a warning line names the file ("movie " -> "movie 'a.tif': ...").
    TiffErrors(const spotflow_host* host, std::string path, std::string label = "")
        : host_(host), path_(std::move(path)), label_(std::move(label)) {}
    TiffErrors(const TiffErrors&) = delete;
    TiffErrors& operator=(const TiffErrors&) = delete;

    // TIFFOpenExt(path, mode) with these handlers; NULL on failure
    // (take_error() says why). Throws std::bad_alloc.
    TIFF* open(const char* mode);

    const std::string& path() const { return path_; }
    bool has_error() const { return !error_.empty(); }
    // libtiff's first error since the last call, for an error line.
    std::string take_error();

private:
    static int on_error(TIFF*, void* self, const char* module, const char* fmt, va_list ap);
    static int on_warning(TIFF*, void* self, const char* module, const char* fmt, va_list ap);

    const spotflow_host* host_;
    std::string path_;
    std::string label_;
    std::string error_;
};

} // namespace tiffio

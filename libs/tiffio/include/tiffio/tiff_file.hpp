// A libtiff handle whose errors and warnings stay with it: libtiff never
// prints, and its first error becomes part of the plugin's one-line error.
#pragma once

#include <tiffio.h>

#include <string>

#include "spotflow/host.h"
#include "tiffio/tiff_errors.hpp"

namespace tiffio {

class TiffFile {
public:
    // mode as for TIFFOpen ("w", "w8", "r+"); throws spotflow::PluginError (IO).
    TiffFile(const spotflow_host* host, std::string path, const char* mode);
    ~TiffFile();
    TiffFile(const TiffFile&) = delete;
    TiffFile& operator=(const TiffFile&) = delete;

    TIFF* get() const { return tif_; }
    const std::string& path() const { return errors_.path(); }

    // libtiff's first error since the last call, for an error line.
    std::string take_error() { return errors_.take_error(); }
    // Flushes and closes; throws spotflow::PluginError (IO) if the last writes fail.
    void close();

private:
    TiffErrors errors_; // declared before tif_, which reports into it
    TIFF* tif_ = nullptr;
};

} // namespace tiffio

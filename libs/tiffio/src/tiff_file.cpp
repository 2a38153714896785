#include "tiffio/tiff_file.hpp"

#include "spotflow/plugin_error.hpp"

namespace tiffio {

using spotflow::PluginError;

TiffFile::TiffFile(const spotflow_host* host, std::string path, const char* mode) : errors_(host, std::move(path)) {
    tif_ = errors_.open(mode);
    if (!tif_) throw PluginError(SPOTFLOW_ERR_IO, "cannot open '" + errors_.path() + "' for writing: " + take_error());
}

TiffFile::~TiffFile() {
    if (tif_) TIFFClose(tif_);
}

void TiffFile::close() {
    const bool flushed = TIFFFlush(tif_) == 1;
    TIFFClose(tif_);
    tif_ = nullptr;
    if (!flushed) throw PluginError(SPOTFLOW_ERR_IO, "cannot write '" + errors_.path() + "': " + take_error());
}

} // namespace tiffio

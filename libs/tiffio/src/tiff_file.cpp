#include "tiffio/tiff_file.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <memory>

#include "spotflow/plugin_error.hpp"

namespace tiffio {

using spotflow::PluginError;

namespace {

std::string format_message(const char* fmt, va_list ap, const std::string& path) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string m(buf);
    std::replace(m.begin(), m.end(), '\n', ' ');
    // Some messages start with the file name, which our own line names already.
    if (m.rfind(path + ": ", 0) == 0) m.erase(0, path.size() + 2);
    return m;
}

} // namespace

TiffFile::TiffFile(const spotflow_host* host, std::string path, const char* mode)
    : host_(host), path_(std::move(path)) {
    std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> opts(TIFFOpenOptionsAlloc(), TIFFOpenOptionsFree);
    if (!opts) throw std::bad_alloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), &TiffFile::on_error, this);
    TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), &TiffFile::on_warning, this);
    tif_ = TIFFOpenExt(path_.c_str(), mode, opts.get());
    if (!tif_) throw PluginError(SPOTFLOW_ERR_IO, "cannot open '" + path_ + "' for writing: " + take_error());
}

TiffFile::~TiffFile() {
    if (tif_) TIFFClose(tif_);
}

void TiffFile::close() {
    const bool flushed = TIFFFlush(tif_) == 1;
    TIFFClose(tif_);
    tif_ = nullptr;
    if (!flushed) throw PluginError(SPOTFLOW_ERR_IO, "cannot write '" + path_ + "': " + take_error());
}

std::string TiffFile::take_error() {
    std::string e = error_.empty() ? std::string("libtiff reported no reason") : std::move(error_);
    error_.clear();
    return e;
}

// Both handlers run inside libtiff's C code: nothing may propagate out.
int TiffFile::on_error(TIFF*, void* self, const char*, const char* fmt, va_list ap) {
    auto* f = static_cast<TiffFile*>(self);
    try {
        // The first error is the cause; later ones follow from it.
        if (f->error_.empty()) f->error_ = format_message(fmt, ap, f->path_);
    } catch (...) {
    }
    return 1; // handled: libtiff must not print
}

int TiffFile::on_warning(TIFF*, void* self, const char*, const char* fmt, va_list ap) {
    auto* f = static_cast<TiffFile*>(self);
    try {
        f->host_->log(f->host_, SPOTFLOW_LOG_DEBUG,
                      ("'" + f->path_ + "': " + format_message(fmt, ap, f->path_)).c_str());
    } catch (...) {
    }
    return 1;
}

} // namespace tiffio

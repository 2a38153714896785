#include "tiffio/tiff_errors.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <new>

namespace tiffio {
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

TIFF* TiffErrors::open(const char* mode) {
    std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> opts(TIFFOpenOptionsAlloc(), TIFFOpenOptionsFree);
    if (!opts) throw std::bad_alloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), &TiffErrors::on_error, this);
    TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), &TiffErrors::on_warning, this);
    return TIFFOpenExt(path_.c_str(), mode, opts.get());
}

std::string TiffErrors::take_error() {
    std::string e = error_.empty() ? std::string("libtiff reported no reason") : std::move(error_);
    error_.clear();
    return e;
}

// Both handlers run inside libtiff's C code: nothing may propagate out.
int TiffErrors::on_error(TIFF*, void* self, const char*, const char* fmt, va_list ap) {
    auto* e = static_cast<TiffErrors*>(self);
    try {
        // The first error is the cause; later ones follow from it.
        if (e->error_.empty()) e->error_ = format_message(fmt, ap, e->path_);
    } catch (...) {
    }
    return 1; // handled: libtiff must not print
}

int TiffErrors::on_warning(TIFF*, void* self, const char*, const char* fmt, va_list ap) {
    auto* e = static_cast<TiffErrors*>(self);
    if (!e->host_) return 1; // no host (a benchmark reading a result): warnings dropped
    try {
        e->host_->log(e->host_, SPOTFLOW_LOG_DEBUG,
                      (e->label_ + "'" + e->path_ + "': " + format_message(fmt, ap, e->path_)).c_str());
    } catch (...) {
    }
    return 1;
}

} // namespace tiffio

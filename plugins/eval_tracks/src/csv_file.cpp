#include "csv_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "errors.hpp"

namespace eval_tracks {

void CsvFile::separate() {
    if (row_open_) text_ += ',';
    row_open_ = true;
}

CsvFile& CsvFile::field(std::string_view s) {
    separate();
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
        text_ += s;
        return *this;
    }
    text_ += '"';
    for (const char c : s) {
        if (c == '"') text_ += '"';
        text_ += c;
    }
    text_ += '"';
    return *this;
}

CsvFile& CsvFile::field(int64_t v) {
    separate();
    fmt::format_to(std::back_inserter(text_), "{}", v);
    return *this;
}

CsvFile& CsvFile::field(double v) {
    separate();
    if (!std::isnan(v)) fmt::format_to(std::back_inserter(text_), "{}", v);
    return *this;
}

CsvFile& CsvFile::null() {
    separate();
    return *this;
}

void CsvFile::end_row() {
    text_ += '\n';
    row_open_ = false;
}

void CsvFile::save() const {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path_.c_str(), "wb"), std::fclose);
    if (!f || std::fwrite(text_.data(), 1, text_.size(), f.get()) != text_.size() || std::fclose(f.release()) != 0)
        throw PluginError(SPOTFLOW_ERR_IO, "cannot write '" + path_ + "': " + std::strerror(errno));
}

} // namespace eval_tracks

#include "spotflow_csv/csv_records.hpp"

#include <cerrno>
#include <cstring>

#include "spotflow/plugin_error.hpp"

namespace spotflow_csv {

using spotflow::PluginError;

CsvRecords::CsvRecords(std::string path, char delimiter)
    : path_(std::move(path)), delimiter_(delimiter), file_(std::fopen(path_.c_str(), "rb"), std::fclose), buf_(1 << 16) {
    if (!file_) throw PluginError(SPOTFLOW_ERR_IO, "cannot open CSV '" + path_ + "': " + std::strerror(errno));
    rewind();
}

void CsvRecords::fail(const std::string& what) const {
    throw PluginError(SPOTFLOW_ERR_FORMAT, "CSV '" + path_ + "' line " + std::to_string(record_line_) + ": " + what);
}

int CsvRecords::get() {
    if (pushback_ != -2) {
        const int c = pushback_;
        pushback_ = -2;
        return c;
    }
    if (pos_ == len_) {
        len_ = std::fread(buf_.data(), 1, buf_.size(), file_.get());
        pos_ = 0;
        if (len_ == 0) {
            if (std::ferror(file_.get()))
                throw PluginError(SPOTFLOW_ERR_IO, "cannot read CSV '" + path_ + "': " + std::strerror(errno));
            return EOF;
        }
    }
    return static_cast<unsigned char>(buf_[pos_++]);
}

void CsvRecords::rewind() {
    std::rewind(file_.get());
    pos_ = len_ = 0;
    pushback_ = -2;
    line_ = 1;
    record_line_ = 0;
    // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first name.
    const int a = get();
    if (a == 0xEF) {
        const int b = get(), c = get();
        if (b == 0xBB && c == 0xBF) return;
    }
    std::rewind(file_.get());
    pos_ = len_ = 0;
}

bool CsvRecords::next(std::vector<std::string>& fields) {
    int c = get();
    if (c == EOF) return false;
    record_line_ = line_;
    size_t n = 0;
    auto start_field = [&]() -> std::string& {
        if (n == fields.size()) fields.emplace_back();
        else fields[n].clear();
        return fields[n++];
    };
    std::string* field = &start_field();
    bool at_field_start = true;
    for (;;) {
        if (c == '"' && at_field_start) {
            for (;;) {
                c = get();
                if (c == EOF) fail("a quoted field is not closed");
                if (c == '"') {
                    c = get();
                    if (c != '"') break; // closing quote; c is what follows it
                } else if (c == '\n') {
                    ++line_;
                }
                field->push_back(static_cast<char>(c));
            }
            if (c != delimiter_ && c != '\n' && c != '\r' && c != EOF) fail("text follows a closing quote");
            at_field_start = false;
            continue;
        }
        if (c == delimiter_) {
            field = &start_field();
            at_field_start = true;
        } else if (c == '\n' || c == EOF) {
            if (c == '\n') ++line_;
            break;
        } else if (c == '\r') {
            const int d = get();
            if (d != '\n') unget(d);
            ++line_;
            break;
        } else {
            field->push_back(static_cast<char>(c));
            at_field_start = false;
        }
        c = get();
    }
    fields.resize(n);
    return true;
}

} // namespace spotflow_csv

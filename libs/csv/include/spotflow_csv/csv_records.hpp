// RFC 4180 records read one at a time from a file, with the line each record
// starts on (quoted fields may span lines), so errors can name file and line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace spotflow_csv {

class CsvRecords {
public:
    // Throws PluginError(SPOTFLOW_ERR_IO) naming the file when it cannot be
    // opened. `delimiter` separates fields: ',' (RFC 4180), '\t' (TSV, e.g.
    // Phy's cluster_group.tsv) or ';'.
    explicit CsvRecords(std::string path, char delimiter = ',');

    // The next record's fields (unquoted); false at the end of the file.
    // Throws PluginError(SPOTFLOW_ERR_FORMAT) naming file and line for an
    // unterminated quote or text after a closing quote.
    bool next(std::vector<std::string>& fields);

    // 1-based line on which the record last returned by next() starts.
    int64_t line() const { return record_line_; }

    // Back to the first record (after a UTF-8 byte-order mark, if any).
    void rewind();

    const std::string& path() const { return path_; }
    char delimiter() const { return delimiter_; }

private:
    int get();
    void unget(int c) { pushback_ = c; }
    [[noreturn]] void fail(const std::string& what) const;

    std::string path_;
    char delimiter_;
    std::unique_ptr<FILE, int (*)(FILE*)> file_;
    std::vector<char> buf_;
    size_t pos_ = 0;
    size_t len_ = 0;
    int pushback_ = -2; // none
    int64_t line_ = 1;
    int64_t record_line_ = 0;
};

} // namespace spotflow_csv

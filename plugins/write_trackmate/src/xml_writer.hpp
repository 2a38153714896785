// XML written straight to a file, element by element: a TrackMate file of a
// million spots then costs a buffer, not a document tree in memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace write_trackmate {

// Numbers as Java's Double.parseDouble reads them, in the shortest form
// that reads back to the same double ("NaN", "Infinity" spelled Java's way).
std::string java_number(double v);

class XmlWriter {
public:
    // Throws PluginError(SPOTFLOW_ERR_IO) if the file cannot be created.
    explicit XmlWriter(std::string path);

    void open(std::string_view name);              // "<name"
    void attr(std::string_view name, std::string_view text);
    void attr(std::string_view name, const char* text) { attr(name, std::string_view(text)); }
    void attr(std::string_view name, int64_t value);
    void attr(std::string_view name, double value);
    void close_empty();                            // " />"
    void close_start();                            // ">", children follow
    void end(std::string_view name);               // "</name>"
    void element_text(std::string_view name, std::string_view text); // <name>text</name>

    // Flushes and closes; throws PluginError(SPOTFLOW_ERR_IO) on failure.
    void finish();

private:
    void newline();
    void flush_if_full();

    std::string path_;
    std::unique_ptr<FILE, int (*)(FILE*)> file_;
    std::string buf_;
    std::vector<std::string> stack_;
};

} // namespace write_trackmate

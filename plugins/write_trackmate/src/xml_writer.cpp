#include "xml_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"

namespace write_trackmate {
namespace {

using spotflow::PluginError;

// The length of the valid UTF-8 sequence starting text[i], or 0.
size_t utf8_length(std::string_view text, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = b(i);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > text.size() || (n == 2 && c < 0xC2)) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))) return 0; // overlong, surrogate
    if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || c > 0xF4 || (c == 0xF4 && b(i + 1) >= 0x90))) return 0;
    return n;
}

// Markup characters as entities (quotes only inside attribute values, and
// tab / newline as character references there, which attribute-value
// normalisation would otherwise turn into spaces); what XML 1.0 cannot hold
// at all (other control characters, bytes that are not UTF-8, e.g. a
// Latin-1 column name) as '?', so the file always parses.
void escape(std::string& out, std::string_view text, bool in_attribute) {
    for (size_t i = 0; i < text.size();) {
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            const size_t n = utf8_length(text, i);
            if (n == 0) out += '?', ++i;
            else out.append(text.substr(i, n)), i += n;
            continue;
        }
        ++i;
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"':
            if (in_attribute) out += "&quot;";
            else out += c;
            break;
        case '\t':
        case '\n':
        case '\r':
            if (in_attribute) out += fmt::format("&#{};", static_cast<int>(u));
            else out += c;
            break;
        default: out += u < 0x20 ? '?' : c;
        }
    }
}

} // namespace

std::string java_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return fmt::format("{}", v);
}

XmlWriter::XmlWriter(std::string path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb"), std::fclose) {
    if (!file_) throw PluginError(SPOTFLOW_ERR_IO, "cannot write TrackMate XML '" + path_ + "': " + std::strerror(errno));
    buf_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
}

void XmlWriter::newline() {
    buf_ += '\n';
    buf_.append(2 * stack_.size(), ' ');
}

void XmlWriter::open(std::string_view name) {
    newline();
    buf_ += '<';
    buf_ += name;
    stack_.emplace_back(name);
}

void XmlWriter::attr(std::string_view name, std::string_view text) {
    buf_ += ' ';
    buf_ += name;
    buf_ += "=\"";
    escape(buf_, text, true);
    buf_ += '"';
}

void XmlWriter::attr(std::string_view name, int64_t value) { fmt::format_to(std::back_inserter(buf_), " {}=\"{}\"", name, value); }

void XmlWriter::attr(std::string_view name, double value) {
    fmt::format_to(std::back_inserter(buf_), " {}=\"{}\"", name, java_number(value));
}

void XmlWriter::close_empty() {
    buf_ += " />";
    stack_.pop_back();
    flush_if_full();
}

void XmlWriter::close_start() { buf_ += '>'; }

void XmlWriter::end(std::string_view name) {
    stack_.pop_back();
    newline();
    buf_ += "</";
    buf_ += name;
    buf_ += '>';
    flush_if_full();
}

void XmlWriter::element_text(std::string_view name, std::string_view text) {
    newline();
    fmt::format_to(std::back_inserter(buf_), "<{}>", name);
    escape(buf_, text, false);
    fmt::format_to(std::back_inserter(buf_), "</{}>", name);
}

void XmlWriter::flush_if_full() {
    if (buf_.size() < (1u << 20)) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_.get()) != buf_.size())
        throw PluginError(SPOTFLOW_ERR_IO, "cannot write TrackMate XML '" + path_ + "': " + std::strerror(errno));
    buf_.clear();
}

void XmlWriter::finish() {
    buf_ += '\n';
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_.get()) != buf_.size() || std::fclose(file_.release()) != 0)
        throw PluginError(SPOTFLOW_ERR_IO, "cannot write TrackMate XML '" + path_ + "': " + std::strerror(errno));
    buf_.clear();
}

} // namespace write_trackmate

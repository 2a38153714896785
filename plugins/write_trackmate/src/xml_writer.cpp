#include "xml_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"

namespace write_trackmate {
namespace {

using spotflow::PluginError;

// Quotes need escaping only inside attribute values.
void escape(std::string& out, std::string_view text, bool in_attribute) {
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"':
            if (in_attribute) out += "&quot;";
            else out += c;
            break;
        default: out += c;
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

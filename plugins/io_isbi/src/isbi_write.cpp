#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "isbi_format.hpp"
#include "spotflow/plugin_error.hpp"

namespace io_isbi {
namespace {

void append_escaped(std::string& out, const std::string& text) {
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
}

} // namespace

// Streamed as text: a million detections cost a buffer, not a document tree.
void write_isbi(const std::string& path, const std::map<int64_t, std::vector<Detection>>& tracks,
                const ContestAttributes& attributes) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), std::fclose);
    auto fail = [&] {
        throw spotflow::PluginError(SPOTFLOW_ERR_IO, "cannot write ISBI XML '" + path + "': " + std::strerror(errno));
    };
    if (!file) fail();
    std::string buf = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root>\n  <TrackContestISBI2012";
    // The challenge's own files spell it "SNR"; the scorers read none of these.
    const std::pair<const char*, const std::string*> attrs[] = {
        {"SNR", &attributes.snr}, {"density", &attributes.density}, {"scenario", &attributes.scenario}};
    for (const auto& [name, value] : attrs) {
        if (value->empty()) continue;
        fmt::format_to(std::back_inserter(buf), " {}=\"", name);
        append_escaped(buf, *value);
        buf += '"';
    }
    buf += ">\n";
    auto flush = [&] {
        if (std::fwrite(buf.data(), 1, buf.size(), file.get()) != buf.size()) fail();
        buf.clear();
    };
    for (const auto& [id, detections] : tracks) {
        buf += "    <particle>\n";
        // Shortest round-trip text, so reading the file back gives the same doubles.
        for (const Detection& d : detections)
            fmt::format_to(std::back_inserter(buf), "      <detection t=\"{}\" x=\"{}\" y=\"{}\" z=\"{}\" />\n", d.t,
                           d.x, d.y, d.z);
        buf += "    </particle>\n";
        if (buf.size() > (1u << 20)) flush();
    }
    buf += "  </TrackContestISBI2012>\n</root>\n";
    flush();
    if (std::fclose(file.release()) != 0) fail();
}

} // namespace io_isbi

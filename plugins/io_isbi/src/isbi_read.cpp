#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <pugixml.hpp>

#include "isbi_format.hpp"
#include "spotflow/plugin_error.hpp"

namespace io_isbi {
namespace {

using spotflow::PluginError;

class Source {
public:
    explicit Source(std::string path) : path_(std::move(path)) {
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw PluginError(SPOTFLOW_ERR_IO, "cannot open ISBI XML '" + path_ + "': " + std::strerror(errno));
        text_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad()) throw PluginError(SPOTFLOW_ERR_IO, "cannot read ISBI XML '" + path_ + "'");
    }
    const std::string& text() const { return text_; }

    // Line of a byte offset, counted only when a message needs it.
    int64_t line_at(ptrdiff_t offset) const {
        const auto end = text_.begin() + std::clamp<ptrdiff_t>(offset, 0, static_cast<ptrdiff_t>(text_.size()));
        return 1 + std::count(text_.begin(), end, '\n');
    }
    [[noreturn]] void fail(const pugi::xml_node& node, const std::string& what) const {
        throw PluginError(SPOTFLOW_ERR_FORMAT, "ISBI XML '" + path_ + "' line " +
                                                   std::to_string(line_at(node.offset_debug())) + ": " + what);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::string text_;
};

double number(const Source& src, const pugi::xml_node& det, const char* name, bool required) {
    const pugi::xml_attribute a = det.attribute(name);
    if (!a) {
        if (required) src.fail(det, std::string("<detection> has no ") + name + " attribute");
        return 0.0;
    }
    std::string_view v = a.value();
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (!v.empty() && v.front() == '+') v.remove_prefix(1);
    double out = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size())
        src.fail(det, std::string(name) + "=\"" + a.value() + "\" is not a number");
    return out;
}

int64_t frame(const Source& src, const pugi::xml_node& det) {
    const pugi::xml_attribute a = det.attribute("t");
    if (!a) src.fail(det, "<detection> has no t attribute");
    const std::string_view v = a.value();
    int64_t t = -1;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), t);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size() || t < 0)
        src.fail(det, std::string("t=\"") + a.value() + "\" is not a frame (an integer >= 0)");
    return t;
}

bool is_nan(const Detection& d) { return std::isnan(d.x) || std::isnan(d.y) || std::isnan(d.z); }

} // namespace

IsbiTracks read_isbi(const std::string& path) {
    const Source src(path);
    pugi::xml_document doc;
    const pugi::xml_parse_result parsed = doc.load_buffer(src.text().data(), src.text().size());
    if (!parsed)
        throw PluginError(SPOTFLOW_ERR_FORMAT, "ISBI XML '" + path + "' line " +
                                                   std::to_string(src.line_at(parsed.offset)) +
                                                   ": not well-formed XML (" + parsed.description() + ")");
    const pugi::xml_node contest = doc.child("root").child("TrackContestISBI2012");
    if (!contest)
        throw PluginError(SPOTFLOW_ERR_FORMAT,
                          "ISBI XML '" + path + "' has no <root><TrackContestISBI2012> element");

    IsbiTracks out;
    int64_t index = 0;
    for (const pugi::xml_node particle : contest.children("particle")) {
        Particle p{index++, {}};
        for (const pugi::xml_node det : particle.children("detection"))
            p.detections.push_back({frame(src, det), number(src, det, "x", true), number(src, det, "y", true),
                                    number(src, det, "z", false)});
        std::stable_sort(p.detections.begin(), p.detections.end(),
                         [](const Detection& a, const Detection& b) { return a.t < b.t; });
        for (size_t i = 1; i < p.detections.size(); ++i)
            if (p.detections[i].t == p.detections[i - 1].t)
                src.fail(particle, "particle " + std::to_string(p.index) + " has two detections at t=" +
                                       std::to_string(p.detections[i].t));

        auto first = std::find_if_not(p.detections.begin(), p.detections.end(), is_nan);
        auto last = std::find_if_not(p.detections.rbegin(), p.detections.rend(), is_nan).base();
        if (first >= last) {
            out.trimmed += static_cast<int64_t>(p.detections.size());
            ++out.empty;
            continue;
        }
        out.trimmed += (first - p.detections.begin()) + (p.detections.end() - last);
        if (std::any_of(first, last, is_nan)) {
            out.dropped.push_back(p.index);
            continue;
        }
        p.detections = std::vector<Detection>(first, last);
        out.particles.push_back(std::move(p));
    }
    return out;
}

} // namespace io_isbi

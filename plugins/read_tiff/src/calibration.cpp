#include "calibration.hpp"

#include <tiff.h>

#include <cstdlib>
#include <map>
#include <string>

namespace read_tiff {
namespace {

// ImageJ writes "key=value" lines after a first line "ImageJ=<version>".
std::map<std::string, std::string> imagej_fields(std::string_view d) {
    std::map<std::string, std::string> fields;
    if (d.substr(0, 7) != "ImageJ=") return fields;
    while (!d.empty()) {
        const size_t end = d.find('\n');
        const std::string_view line = d.substr(0, end);
        const size_t eq = line.find('=');
        if (eq != std::string_view::npos) fields.emplace(line.substr(0, eq), line.substr(eq + 1));
        if (end == std::string_view::npos) break;
        d.remove_prefix(end + 1);
    }
    return fields;
}

// Nanometres per ImageJ length unit; 0 for "pixel" and anything unknown.
// ImageJ escapes non-ASCII characters, so "µm" arrives as "\u00B5m".
double nm_per_unit(const std::string& u) {
    static const std::map<std::string, double> units = {
        {"nm", 1},   {"nanometer", 1},   {"nanometers", 1},  {"micron", 1e3},   {"microns", 1e3},
        {"um", 1e3}, {"\xC2\xB5m", 1e3}, {"\xCE\xBCm", 1e3}, {"\\u00B5m", 1e3}, {"\\u03BCm", 1e3},
        {"mm", 1e6}, {"cm", 1e7},        {"m", 1e9},         {"meter", 1e9},    {"inch", 25.4e6}};
    const auto it = units.find(u);
    return it == units.end() ? 0 : it->second;
}

// Seconds per ImageJ time unit ("tunit="); ImageJ's default is seconds.
double s_per_time_unit(const std::string& u) {
    static const std::map<std::string, double> units = {
        {"s", 1},     {"sec", 1},          {"second", 1},      {"seconds", 1}, {"ms", 1e-3}, {"msec", 1e-3},
        {"us", 1e-6}, {"\xC2\xB5s", 1e-6}, {"\\u00B5s", 1e-6}, {"min", 60},    {"h", 3600},  {"hr", 3600}};
    const auto it = units.find(u);
    return it == units.end() ? 0 : it->second;
}

double number(const std::string& s) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    return end != s.c_str() && v > 0 ? v : 0;
}

} // namespace

Calibration parse_calibration(std::string_view description, double x_resolution, int resolution_unit) {
    Calibration c;
    const auto ij = imagej_fields(description);
    const auto field = [&](const char* key) -> std::string {
        const auto it = ij.find(key);
        return it == ij.end() ? std::string() : it->second;
    };

    double nm_per_res_unit = 0;
    if (ij.count("unit")) nm_per_res_unit = nm_per_unit(field("unit"));
    else if (resolution_unit == RESUNIT_INCH) nm_per_res_unit = 25.4e6;
    else if (resolution_unit == RESUNIT_CENTIMETER) nm_per_res_unit = 1e7;
    if (x_resolution > 0) c.pixel_size_nm = nm_per_res_unit / x_resolution;

    const std::string tunit = field("tunit");
    c.frame_interval_s = number(field("finterval")) * (tunit.empty() ? 1 : s_per_time_unit(tunit));
    const double channels = number(field("channels"));
    if (channels > 1) c.imagej_channels = static_cast<int64_t>(channels);
    return c;
}

} // namespace read_tiff

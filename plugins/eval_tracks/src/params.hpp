// The plugin's params: the JSON Schema in the descriptor and their parsed form.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace eval_tracks {

extern const char* const kParamsSchema;

struct FileNames {
    std::string track_statistics;
    std::string fragmentation;
    std::string track_length_analysis;
    std::string diagnostic_summary;
    std::string comparison;
    std::string comparison_plot;
};

struct Params {
    double gate_px;
    int64_t min_track_length;
    double pixel_size_nm; // display only; 0: from the stream
    std::vector<std::string> labels;
    std::map<std::string, double> wall_times_s;
    FileNames files; // "" = not written
};

// Throws PluginError naming the param.
Params parse_params(const char* json);

} // namespace eval_tracks

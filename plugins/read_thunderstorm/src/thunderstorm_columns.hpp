// ThunderSTORM's CSV header, "name [unit]" labels (DLMImportExport), mapped
// to spotflow's detection columns with the conversion each needs.
//
// ThunderSTORM places a fitted position at (pixel index + offset + 0.5) and
// multiplies by the pixel size (MultipleLocationsImageFitting.run,
// MoleculeDescriptor.Units.convertTo), so 0 nm is the left edge of the first
// pixel; spotflow puts 0 at that pixel's centre: x_px = x_nm / pixel - 0.5.
// Frames are ImageJ slice numbers, from 1; spotflow counts from 0.
#pragma once

#include <string>
#include <vector>

#include "spotflow/table.hpp"

namespace read_thunderstorm {

enum class Role { Frame, X, Y, Photons, Background, BackgroundStd, Sigma, Uncertainty, Chi2, Z, UncertaintyZ, Id };

// One output column: which header field feeds it and how its value converts.
struct Mapped {
    Role role;
    std::string output;      // spotflow column name
    std::string label;       // the header label, for messages
    size_t field;            // index in the header
    double scale;            // output = value * scale + shift
    double shift;
    spotflow::ColumnType type;
};

struct ColumnMap {
    std::vector<Mapped> columns;       // in output order
    std::vector<std::string> ignored;  // labels no column is made from
};

// Throws PluginError naming the file and label for a missing frame/x/y, a
// duplicate quantity, or a unit that cannot be converted.
ColumnMap map_columns(const std::vector<std::string>& header, double pixel_size_nm, const std::string& path);

} // namespace read_thunderstorm

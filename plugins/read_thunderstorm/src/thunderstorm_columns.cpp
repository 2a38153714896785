#include "thunderstorm_columns.hpp"

#include <algorithm>
#include <map>

#include "spotflow_csv/csv_values.hpp"
#include "spotflow/plugin_error.hpp"

namespace read_thunderstorm {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;

enum class Quantity { Count, Position, Length, Depth, Photons, Unitless };

struct Known {
    Role role;
    const char* output;
    Quantity quantity;
};

// ThunderSTORM names (PSFModel.Params, MoleculeDescriptor) -> spotflow columns,
// in the order the output table lists them.
const std::map<std::string, Known>& known_names() {
    static const std::map<std::string, Known> k = {
        {"frame", {Role::Frame, "frame", Quantity::Count}},
        {"x", {Role::X, "x", Quantity::Position}},
        {"y", {Role::Y, "y", Quantity::Position}},
        {"intensity", {Role::Photons, "photons", Quantity::Photons}},
        {"offset", {Role::Background, "background", Quantity::Photons}},
        {"bkgstd", {Role::BackgroundStd, "background_std", Quantity::Photons}},
        {"sigma", {Role::Sigma, "sigma", Quantity::Length}},
        {"uncertainty", {Role::Uncertainty, "uncertainty", Quantity::Length}},
        {"uncertainty_xy", {Role::Uncertainty, "uncertainty", Quantity::Length}},
        {"chi2", {Role::Chi2, "chi2", Quantity::Unitless}},
        {"z", {Role::Z, "z_nm", Quantity::Depth}},
        {"uncertainty_z", {Role::UncertaintyZ, "uncertainty_z_nm", Quantity::Depth}},
        {"id", {Role::Id, "id", Quantity::Count}},
    };
    return k;
}

// "x [nm]" -> ("x", "nm"); "id" -> ("id", ""), as ThunderSTORM's own
// MoleculeDescriptor.parseColumnLabel splits at the last brackets.
std::pair<std::string, std::string> split_label(const std::string& label) {
    const size_t open = label.rfind('['), close = label.rfind(']');
    if (open == std::string::npos || close == std::string::npos || open > close)
        return {std::string(spotflow_csv::trim(label)), ""};
    return {std::string(spotflow_csv::trim(label.substr(0, open))),
            std::string(spotflow_csv::trim(label.substr(open + 1, close - open - 1)))};
}

} // namespace

ColumnMap map_columns(const std::vector<std::string>& header, double pixel_size_nm, const std::string& path) {
    const std::string file = "ThunderSTORM CSV '" + path + "'";
    ColumnMap map;
    for (size_t i = 0; i < header.size(); ++i) {
        // Not a structured binding: a C++17 lambda below cannot capture one (clang refuses).
        const auto label = split_label(header[i]);
        const auto& name = label.first;
        const auto& unit = label.second;
        const auto it = known_names().find(name);
        if (it == known_names().end()) {
            map.ignored.push_back(header[i]);
            continue;
        }
        const Known& k = it->second;
        for (const Mapped& m : map.columns)
            if (m.role == k.role)
                throw PluginError(SPOTFLOW_ERR_FORMAT,
                                  file + " has both '" + m.label + "' and '" + header[i] + "'");
        Mapped m{k.role, k.output, header[i], i, 1.0, 0.0, ColumnType::Float64};
        auto bad_unit = [&](const char* wanted) {
            return PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                               file + ": column '" + header[i] + "' is in '" + unit + "', expected " + wanted);
        };
        switch (k.quantity) {
        case Quantity::Count:
            if (!unit.empty()) throw bad_unit("no unit");
            m.type = ColumnType::Int64;
            if (k.role == Role::Frame) m.shift = -1.0;
            break;
        case Quantity::Position:
        case Quantity::Length:
            if (unit == "nm") m.scale = 1.0 / pixel_size_nm;
            else if (unit == "um" || unit == "µm") m.scale = 1000.0 / pixel_size_nm;
            else if (unit != "px") throw bad_unit("nm, um or px");
            if (k.quantity == Quantity::Position) m.shift = -0.5;
            break;
        case Quantity::Depth:
            if (unit == "um" || unit == "µm") m.scale = 1000.0;
            else if (unit != "nm") throw bad_unit("nm or um");
            break;
        case Quantity::Photons:
            if (unit != "photon") throw bad_unit("photon (export in photons, not camera counts)");
            break;
        case Quantity::Unitless:
            if (!unit.empty()) throw bad_unit("no unit");
            break;
        }
        map.columns.push_back(m);
    }
    for (Role need : {Role::Frame, Role::X, Role::Y})
        if (std::none_of(map.columns.begin(), map.columns.end(), [&](const Mapped& m) { return m.role == need; }))
            throw PluginError(SPOTFLOW_ERR_FORMAT, file + " has no '" +
                                                       std::string(need == Role::Frame ? "frame"
                                                                   : need == Role::X   ? "x [nm]"
                                                                                       : "y [nm]") +
                                                       "' column");
    std::stable_sort(map.columns.begin(), map.columns.end(),
                     [](const Mapped& a, const Mapped& b) { return a.role < b.role; });
    return map;
}

} // namespace read_thunderstorm

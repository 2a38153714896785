#include "table_input.hpp"

#include <array>
#include <stdexcept>

#include <fmt/format.h>

#include "errors.hpp"
#include "spotflow/table.hpp"

namespace eval_tracks {
namespace {

std::string column_list(const spotflow::TableView& t) {
    std::string s;
    for (int64_t c = 0; c < t.columns(); ++c) s += (c ? ", " : "") + std::string(t.column_name(c));
    return s.empty() ? "none" : s;
}

} // namespace

void append_rows(const spotflow_packet& packet, const std::string& what, bool allow_unlinked, RowsIn& into) {
    if (packet.kind != SPOTFLOW_DATA_TABLE)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, what + ": received a tensor; a table is expected");
    const spotflow::TableView t = [&] {
        try {
            return spotflow::TableView(packet.schema, packet.array);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, what + ": " + e.what());
        }
    }();
    static constexpr std::array<const char*, 4> kNames = {"frame", "x", "y", "track_id"};
    std::array<int64_t, 4> col{};
    for (size_t i = 0; i < kNames.size(); ++i) {
        col[i] = t.find(kNames[i]);
        if (col[i] < 0)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              fmt::format("{}: no column '{}' (columns: {})", what, kNames[i], column_list(t)));
        if (t.is_string(col[i]))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              fmt::format("{}: column '{}' holds strings; it must be numeric", what, kNames[i]));
    }
    into.rows.reserve(into.rows.size() + static_cast<size_t>(t.rows()));
    for (int64_t r = 0; r < t.rows(); ++r) {
        const int64_t row = into.seen + r;
        if (t.is_null(col[0], r))
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("{}: row {} has no frame", what, row));
        if (t.is_null(col[3], r)) {
            if (!allow_unlinked)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("{}: row {} (frame {}) has no track_id", what, row, t.get_int(col[0], r)));
            ++into.unlinked;
            continue;
        }
        into.rows.push_back({t.get_int(col[0], r), t.get_double(col[1], r), t.get_double(col[2], r),
                             t.get_int(col[3], r)});
    }
    into.seen += t.rows();
}

} // namespace eval_tracks

// write.csv: writes the table it receives as CSV in the run's output folder,
// batch by batch as they arrive.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "spotflow_csv/csv_writer.hpp"
#include "errors.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/entry.hpp"
#include "schema.json.hpp"

namespace write_csv {
namespace {

using spotflow_csv::append_header;
using spotflow_csv::append_rows;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Params {
    std::string file;
    std::vector<std::string> columns;
};

Params parse_params(const char* json) {
    return spotflow::read_params(json, [](const nlohmann::json& j) -> Params {
        return {j.at("file").get<std::string>(), j.at("columns").get<std::vector<std::string>>()};
    });
}

// One node: opens the file at the first batch, appends every batch, closes
// at finish.
class Writer {
public:
    static constexpr const char* kContext = "write.csv";

    Writer(const spotflow_host* host, const char* params_json) : host(host) {
        Params p = parse_params(params_json);
        path = spotflow::output_path(host, p.file);
        file = std::move(p.file);
        wanted = std::move(p.columns);
    }

    std::string context() const { return "writing '" + file + "'"; }

    spotflow_status process(const spotflow_input&, const spotflow_packet& packet, const spotflow_emitter*) {
        if (packet.kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "write.csv received a tensor; it writes tables");
        const spotflow::TableView table = [&] {
            try {
                return spotflow::TableView(packet.schema, packet.array);
            } catch (const std::invalid_argument& e) {
                throw PluginError(SPOTFLOW_ERR_FORMAT, e.what());
            }
        }();

        std::string text;
        if (!out) {
            out.reset(std::fopen(path.c_str(), "wb"));
            if (!out) fail_io();
            for (int64_t c = 0; c < table.columns(); ++c) columns.emplace_back(table.column_name(c));
            select(table);
            append_header(text, table, selection);
        } else {
            check_same_columns(table);
        }
        append_rows(text, table, selection);
        write(text);
        rows += table.rows();
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter*) {
        if (!out) {
            host->log(host, SPOTFLOW_LOG_WARNING, ("no table arrived; '" + file + "' was not written").c_str());
            return SPOTFLOW_OK;
        }
        if (std::fclose(out.release()) != 0) fail_io();
        return SPOTFLOW_OK;
    }

private:
    const spotflow_host* host;
    std::string file;
    std::string path;
    std::vector<std::string> wanted;                                 // the columns param
    std::vector<int64_t> selection;                                  // their indices in the batches
    std::unique_ptr<FILE, int (*)(FILE*)> out{nullptr, std::fclose}; // opened by the first batch
    std::vector<std::string> columns;                                // names of the first batch
    int64_t rows = 0;

    [[noreturn]] void fail_io() const {
        throw PluginError(SPOTFLOW_ERR_IO, "cannot write '" + path + "': " + std::strerror(errno));
    }

    // Later batches must repeat the first batch's column names, in order.
    void check_same_columns(const spotflow::TableView& t) const {
        const std::string where = fmt::format("the batch starting at row {}", rows);
        const size_t n = std::max(columns.size(), static_cast<size_t>(t.columns()));
        for (size_t c = 0; c < n; ++c) {
            if (c >= static_cast<size_t>(t.columns()))
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("{} lacks column '{}' of the first batch", where, columns[c]));
            const std::string_view name = t.column_name(static_cast<int64_t>(c));
            if (c >= columns.size())
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("{} has column '{}', which the first batch lacks", where, name));
            if (name != columns[c])
                throw PluginError(
                    SPOTFLOW_ERR_INVALID_ARGUMENT,
                    fmt::format("{} has column '{}' where the first batch has '{}'", where, name, columns[c]));
        }
    }

    // The indices of the wanted columns (every column if none is named).
    void select(const spotflow::TableView& t) {
        if (wanted.empty()) {
            for (int64_t c = 0; c < t.columns(); ++c) selection.push_back(c);
            return;
        }
        for (const auto& name : wanted) {
            const int64_t c = t.find(name);
            if (c < 0)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                                  fmt::format("column '{}' of the columns param is not in the table (it has: {})", name,
                                              fmt::join(columns, ", ")));
            selection.push_back(c);
        }
    }

    void write(const std::string& text) {
        if (std::fwrite(text.data(), 1, text.size(), out.get()) != text.size()) fail_io();
    }
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Writer>();

const spotflow_port_desc kInputs[] = {
    {"table", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "Any table; every batch with the same columns"}};

const spotflow_plugin_desc kDescriptor = {
    "write.csv", "1.0.0", "Writes a table as a CSV file, batch by batch", "writer", kInputs, 1, 0, nullptr, kSchema,
    &kVtable,    nullptr};

} // namespace
} // namespace write_csv

SPOTFLOW_EXPORT_PLUGINS(write_csv::kDescriptor);

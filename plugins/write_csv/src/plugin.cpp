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

#include "csv_format.hpp"
#include "errors.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin.h"

namespace write_csv {
namespace {

constexpr const char* kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "required": ["file"],
  "properties": {
    "file": {"type": "string", "minLength": 1,
             "description": "Name of the CSV file inside the run's output folder, e.g. \"detections.csv\"."},
    "columns": {"type": "array", "items": {"type": "string", "minLength": 1}, "default": [],
                "description": "The columns to write, in this order (e.g. seed 000's tracks.csv: frame, x, y, probability, photons, track_id); empty writes every column."}
  }
})";

struct Params {
    std::string file;
    std::vector<std::string> columns;
};

Params parse_params(const char* json) {
    try {
        const auto j = nlohmann::json::parse(json);
        return {j.at("file").get<std::string>(), j.at("columns").get<std::vector<std::string>>()};
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("invalid params: ") + e.what());
    }
}

struct Writer {
    Writer(const spotflow_host* host, std::string file, std::string path, std::vector<std::string> wanted)
        : host(host), file(std::move(file)), path(std::move(path)), wanted(std::move(wanted)) {}

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

void* create(const spotflow_host* host, const char* params_json) {
    Writer* writer = nullptr;
    guarded(host, "creating write.csv", [&] {
        Params p = parse_params(params_json);
        std::string path = spotflow::output_path(host, p.file);
        writer = new Writer(host, std::move(p.file), std::move(path), std::move(p.columns));
        return SPOTFLOW_OK;
    });
    return writer;
}

spotflow_status process(void* self, const spotflow_input*, const spotflow_packet* packet, const spotflow_emitter*) {
    auto& w = *static_cast<Writer*>(self);
    return guarded(w.host, "writing '" + w.file + "'", [&] {
        if (packet->kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "write.csv received a tensor; it writes tables");
        const spotflow::TableView table = [&] {
            try {
                return spotflow::TableView(packet->schema, packet->array);
            } catch (const std::invalid_argument& e) {
                throw PluginError(SPOTFLOW_ERR_FORMAT, e.what());
            }
        }();

        std::string text;
        if (!w.out) {
            w.out.reset(std::fopen(w.path.c_str(), "wb"));
            if (!w.out) w.fail_io();
            for (int64_t c = 0; c < table.columns(); ++c) w.columns.emplace_back(table.column_name(c));
            w.select(table);
            append_header(text, table, w.selection);
        } else {
            w.check_same_columns(table);
        }
        append_rows(text, table, w.selection);
        w.write(text);
        w.rows += table.rows();
        return SPOTFLOW_OK;
    });
}

spotflow_status finish(void* self, const spotflow_emitter*) {
    auto& w = *static_cast<Writer*>(self);
    return guarded(w.host, "closing '" + w.file + "'", [&] {
        if (!w.out) {
            w.host->log(w.host, SPOTFLOW_LOG_WARNING, ("no table arrived; '" + w.file + "' was not written").c_str());
            return SPOTFLOW_OK;
        }
        if (std::fclose(w.out.release()) != 0) w.fail_io();
        return SPOTFLOW_OK;
    });
}

void destroy(void* self) { delete static_cast<Writer*>(self); }

const spotflow_node_vtable kVtable = {create, nullptr, process, finish, destroy};

const spotflow_port_desc kInputs[] = {
    {"table", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "Any table; every batch with the same columns"}};

const spotflow_plugin_desc kDescriptor = {
    "write.csv", "1.0.0", "Writes a table as a CSV file, batch by batch", "writer", kInputs, 1, 0, nullptr, kSchema,
    &kVtable,    nullptr};

uint32_t plugin_count() { return 1; }
const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &kDescriptor : nullptr; }

} // namespace
} // namespace write_csv

extern "C" SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT,
                                                                         write_csv::plugin_count, write_csv::plugin};

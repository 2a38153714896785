// spotflow plugins / describe: what is installed, read from the descriptors
// alone (no plugin is instantiated).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "console.hpp"
#include "errors.hpp"
#include "plugin_registry.hpp"

namespace spotflow::cli {
namespace {

std::string flags_text(uint32_t flags) {
    std::string s;
    if (flags & SPOTFLOW_PORT_OPTIONAL) s += ", optional";
    if (flags & SPOTFLOW_PORT_MULTIPLE) s += ", multiple";
    if (flags & SPOTFLOW_PORT_WHOLE_STREAM) s += ", whole stream";
    return s;
}

nlohmann::json ports_json(const spotflow_port_desc* ports, uint32_t n) {
    auto out = nlohmann::json::array();
    for (uint32_t i = 0; i < n; ++i)
        out.push_back({{"name", ports[i].name},
                       {"type", ports[i].type},
                       {"data", ports[i].kind == SPOTFLOW_DATA_TENSOR ? "tensor" : "table"},
                       {"optional", (ports[i].flags & SPOTFLOW_PORT_OPTIONAL) != 0},
                       {"multiple", (ports[i].flags & SPOTFLOW_PORT_MULTIPLE) != 0},
                       {"whole_stream", (ports[i].flags & SPOTFLOW_PORT_WHOLE_STREAM) != 0},
                       {"summary", ports[i].summary ? ports[i].summary : ""}});
    return out;
}

nlohmann::json plugin_json(const PluginInfo& p, bool with_schema) {
    const auto& d = *p.desc;
    nlohmann::json j = {{"id", d.id},           {"version", d.version}, {"kind", d.kind},
                        {"summary", d.summary}, {"library", p.path.string()},
                        {"inputs", ports_json(d.inputs, d.n_inputs)},
                        {"outputs", ports_json(d.outputs, d.n_outputs)}};
    nlohmann::json params = nlohmann::json::object();
    const auto& schema = p.params_schema->json();
    const auto props = schema.value("properties", nlohmann::json::object());
    for (const auto& [name, s] : props.items())
        params[name] = s.contains("default") ? s["default"] : nlohmann::json();
    j["params"] = params;
    if (with_schema) j["params_schema"] = schema;
    return j;
}

std::string ports_line(const spotflow_port_desc* ports, uint32_t n) {
    std::string s;
    for (uint32_t i = 0; i < n; ++i) s += fmt::format("{}{}:{}", i ? ", " : "", ports[i].name, ports[i].type);
    return s.empty() ? "-" : s;
}

PluginRegistry load_default() {
    PluginRegistry r;
    for (const auto& dir : default_plugin_folders()) r.add_folder(dir);
    return r;
}

std::string constraint_text(const nlohmann::json& s) {
    std::string c;
    auto add = [&](const std::string& t) { c += (c.empty() ? "" : ", ") + t; };
    if (s.contains("minimum")) add(">= " + s["minimum"].dump());
    if (s.contains("exclusiveMinimum")) add("> " + s["exclusiveMinimum"].dump());
    if (s.contains("maximum")) add("<= " + s["maximum"].dump());
    if (s.contains("exclusiveMaximum")) add("< " + s["exclusiveMaximum"].dump());
    if (s.contains("enum")) add("one of " + s["enum"].dump());
    return c;
}

} // namespace

nlohmann::json plugins_json(const PluginRegistry& r) {
    nlohmann::json out = {{"plugins", nlohmann::json::array()}, {"problems", nlohmann::json::array()}};
    for (const auto* p : r.all()) out["plugins"].push_back(plugin_json(*p, false));
    for (const auto& pr : r.problems()) out["problems"].push_back({{"library", pr.path.string()}, {"reason", pr.reason}});
    return out;
}

nlohmann::json plugins_json() { return plugins_json(load_default()); }

nlohmann::json describe_json(const std::string& id) {
    PluginRegistry r = load_default();
    const PluginInfo* p = r.find(id);
    if (!p) throw UserError(fmt::format("unknown plugin '{}' (see spotflow plugins)", id));
    return plugin_json(*p, true);
}

int plugins(bool json) {
    PluginRegistry r = load_default();
    if (json) {
        fmt::print("{}\n", plugins_json(r).dump(2));
    } else {
        for (const auto* p : r.all()) {
            const auto& d = *p->desc;
            fmt::print("{:<22} {:<8} {:<10} {}\n", d.id, d.version, d.kind, d.summary);
            if (!p->is_loss()) fmt::print("{:22} in: {}  ->  out: {}\n", "", ports_line(d.inputs, d.n_inputs), ports_line(d.outputs, d.n_outputs));
            std::string params;
            const auto props = p->params_schema->json().value("properties", nlohmann::json::object());
            for (const auto& [name, s] : props.items())
                params += fmt::format("{}{}={}", params.empty() ? "" : " ", name, s.contains("default") ? s["default"].dump() : "(required)");
            if (!params.empty()) fmt::print("{:22} params: {}\n", "", params);
        }
        if (r.all().empty()) fmt::print("no plugins found\n");
    }
    for (const auto& pr : r.problems()) print_warning(fmt::format("skipped {}: {}", pr.path.string(), pr.reason));
    return kOk;
}

int describe(const std::string& id, bool json) {
    if (json) {
        fmt::print("{}\n", describe_json(id).dump(2));
        return kOk;
    }
    PluginRegistry r = load_default();
    const PluginInfo* p = r.find(id);
    if (!p) throw UserError(fmt::format("unknown plugin '{}' (see spotflow plugins)", id));
    const auto& d = *p->desc;
    fmt::print("{} {} ({})\n  {}\n  library: {}\n", d.id, d.version, d.kind, d.summary, p->path.string());
    auto ports = [](const char* title, const spotflow_port_desc* ps, uint32_t n) {
        if (!n) return;
        fmt::print("{}:\n", title);
        for (uint32_t i = 0; i < n; ++i)
            fmt::print("  {:<14} {} ({}{})  {}\n", ps[i].name, ps[i].type,
                       ps[i].kind == SPOTFLOW_DATA_TENSOR ? "tensor" : "table", flags_text(ps[i].flags),
                       ps[i].summary ? ps[i].summary : "");
    };
    ports("inputs", d.inputs, d.n_inputs);
    ports("outputs", d.outputs, d.n_outputs);
    const auto& schema = p->params_schema->json();
    const auto props = schema.value("properties", nlohmann::json::object());
    if (!props.empty()) {
        fmt::print("params:\n");
        const auto required = schema.value("required", nlohmann::json::array());
        for (const auto& [name, s] : props.items()) {
            const bool req = std::find(required.begin(), required.end(), name) != required.end();
            const std::string type = s.contains("type") ? (s["type"].is_string() ? s["type"].get<std::string>() : s["type"].dump()) : "any";
            const std::string def = s.contains("default") ? "default " + s["default"].dump() : req ? "required" : "optional";
            const std::string c = constraint_text(s);
            fmt::print("  {:<18} {:<8} {}{}\n  {:18} {}\n", name, type, def, c.empty() ? "" : "; " + c, "",
                       s.value("description", ""));
        }
    }
    return kOk;
}

} // namespace spotflow::cli

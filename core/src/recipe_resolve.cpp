// Resolving a recipe against the loaded plugins: every check that can be
// made before any plugin code runs.
#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "errors.hpp"
#include "output_folder.hpp"
#include "recipe.hpp"

namespace spotflow {
namespace fs = std::filesystem;

bool port_accepts(const spotflow_port_desc& in, const spotflow_port_desc& out) {
    if (in.kind != out.kind) return false;
    if (std::string(in.type) == out.type) return true;
    if (in.kind == SPOTFLOW_DATA_TABLE && std::string(in.type) == SPOTFLOW_TYPE_TABLE) return true;
    if (in.kind == SPOTFLOW_DATA_TENSOR && std::string(in.type) == SPOTFLOW_TYPE_TENSOR) return true;
    return false;
}

namespace {

struct Problems {
    std::string file;
    std::vector<std::string> lines;
    void add(const std::string& pointer, const std::string& message) {
        lines.push_back(fmt::format("{}: {}: {}", file, pointer, message));
    }
};

// "${inputs.NAME}" anywhere in a string param.
const std::regex& input_ref() {
    static const std::regex re("\\$\\{inputs\\.([A-Za-z0-9_]*)\\}");
    return re;
}

void collect_refs(const nlohmann::json& v, std::set<std::string>& out) {
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        for (auto it = std::sregex_iterator(s.begin(), s.end(), input_ref()); it != std::sregex_iterator(); ++it)
            out.insert((*it)[1].str());
    } else if (v.is_structured()) {
        for (const auto& x : v) collect_refs(x, out);
    }
}

// `deferred`: if set, an unbound input is left as written and recorded
// there (input -> node ids) instead of being a problem.
void substitute(nlohmann::json& v, const std::map<std::string, std::string>& bound, const std::string& pointer,
                const std::set<std::string>& declared, Problems& problems, const std::string& node_id,
                std::map<std::string, std::set<std::string>>* deferred) {
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        std::string out;
        size_t last = 0;
        for (auto it = std::sregex_iterator(s.begin(), s.end(), input_ref()); it != std::sregex_iterator(); ++it) {
            const std::string name = (*it)[1].str();
            out += s.substr(last, static_cast<size_t>(it->position()) - last);
            last = static_cast<size_t>(it->position() + it->length());
            if (!declared.count(name)) {
                problems.add(pointer, fmt::format("refers to ${{inputs.{}}} but the recipe declares no input '{}' (node \"{}\")",
                                                  name, name, node_id));
            } else if (const auto b = bound.find(name); b == bound.end()) {
                if (deferred) {
                    (*deferred)[name].insert(node_id);
                    out += it->str();
                } else {
                    problems.add(pointer, fmt::format("input '{}' is not bound: pass --input {}=PATH (node \"{}\")",
                                                      name, name, node_id));
                }
            } else {
                out += b->second;
            }
        }
        out += s.substr(last);
        v = out;
    } else if (v.is_object()) {
        for (auto& [k, x] : v.items())
            substitute(x, bound, join_pointer(pointer, k), declared, problems, node_id, deferred);
    } else if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i)
            substitute(v[i], bound, join_pointer(pointer, std::to_string(i)), declared, problems, node_id, deferred);
    }
}

// The params that name files a node writes into the output folder, by the
// bundled plugins' convention: file, figure, *_file, *_plot, best_model,
// final_model, model_card (image_file of write.trackmate_xml only names the
// movie in the XML). Sources read files; their params are paths.
// A param the plugin reads rather than writes, though its name looks like an
// output's (classify.curation's model_file): its schema says so with
// "x-spotflow-input-path": true.
bool is_declared_input_path(const nlohmann::json& schema, const std::string& key) {
    const auto props = schema.find("properties");
    if (props == schema.end() || !props->is_object()) return false;
    const auto prop = props->find(key);
    return prop != props->end() && prop->is_object() && prop->value("x-spotflow-input-path", false);
}

bool is_output_name_param(const std::string& key) {
    auto ends = [&](const std::string& tail) {
        return key.size() >= tail.size() && key.compare(key.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (key == "image_file") return false;
    return key == "file" || key == "figure" || ends("_file") || ends("_plot") || key == "best_model" ||
           key == "final_model" || key == "model_card";
}

int32_t port_index(const spotflow_port_desc* ports, uint32_t n, const std::string& name) {
    for (uint32_t i = 0; i < n; ++i)
        if (name == ports[i].name) return static_cast<int32_t>(i);
    return -1;
}

std::string port_names(const spotflow_port_desc* ports, uint32_t n) {
    std::string s;
    for (uint32_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::string(ports[i].name);
    return s.empty() ? "none" : s;
}

} // namespace

ResolvedGraph resolve_recipe(const Recipe& recipe, PluginRegistry& registry, const ResolveOptions& options) {
    const nlohmann::json& doc = recipe.doc;
    const fs::path base = recipe.file.empty() ? fs::current_path() : fs::absolute(recipe.file).parent_path();
    Problems problems{recipe.file.empty() ? "recipe" : recipe.file.string(), {}};

    for (const auto& p : doc.value("plugin_paths", nlohmann::json::array())) {
        const fs::path dir = fs::path(p.get<std::string>()).is_absolute() ? fs::path(p.get<std::string>())
                                                                          : base / p.get<std::string>();
        registry.add_folder(dir);
    }

    // Inputs: what is declared, what the command line binds, what defaults.
    ResolvedGraph g;
    g.name = doc.value("name", recipe.file.empty() ? std::string("recipe") : recipe.file.stem().string());
    g.seed = options.seed.value_or(doc.value("seed", uint64_t{0}));
    std::set<std::string> declared, optional_inputs;
    const nlohmann::json inputs = doc.value("inputs", nlohmann::json::object());
    for (const auto& [name, spec] : inputs.items()) {
        declared.insert(name);
        if (spec.value("optional", false)) optional_inputs.insert(name);
        if (spec.contains("default")) {
            const fs::path p = spec["default"].get<std::string>();
            g.inputs[name] = (p.is_absolute() ? p : base / p).lexically_normal().string();
        }
    }
    for (const auto& [name0, path] : options.inputs) {
        std::string name = name0;
        if (name.empty()) { // --input PATH: only when the recipe has exactly one input
            if (declared.size() != 1)
                throw UserError(fmt::format("--input {}: the recipe has {} inputs; name it as --input NAME=PATH",
                                            path, declared.size()));
            name = *declared.begin();
        }
        if (!declared.count(name)) {
            std::string names;
            for (const auto& d : declared) names += (names.empty() ? "" : ", ") + d;
            throw UserError(fmt::format("--input {}: the recipe has no input '{}' (inputs: {})", name, name,
                                        names.empty() ? "none" : names));
        }
        g.inputs[name] = fs::absolute(path).lexically_normal().string();
    }

    const auto& nodes = doc["nodes"];
    const nlohmann::json edges = doc.value("edges", nlohmann::json::array());

    // Nodes that use an unbound optional input are dropped, with whatever
    // then lacks a required input because of them.
    // When only checking (defer_unbound), every node is kept and checked.
    std::vector<bool> dropped(nodes.size(), false);
    for (size_t i = 0; i < nodes.size() && !options.defer_unbound; ++i) {
        std::set<std::string> refs;
        collect_refs(nodes[i].value("params", nlohmann::json::object()), refs);
        for (const auto& r : refs)
            if (optional_inputs.count(r) && !g.inputs.count(r)) dropped[i] = true;
    }

    std::map<std::string, size_t> index_of;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const std::string id = nodes[i]["id"];
        if (!index_of.emplace(id, i).second)
            problems.add(fmt::format("nodes/{}/id", i), fmt::format("duplicate node id \"{}\"", id));
    }

    // Plugins and params.
    std::map<std::string, std::set<std::string>> deferred; // unbound input -> nodes using it
    std::vector<const PluginInfo*> plugin(nodes.size(), nullptr);
    std::vector<nlohmann::json> params(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (dropped[i]) continue;
        const std::string id = nodes[i]["id"];
        const std::string pid = nodes[i]["plugin"];
        const PluginInfo* info = registry.find(pid);
        if (!info) {
            std::string hint = "see `spotflow plugins`";
            for (const auto& pr : registry.problems())
                if (pr.path.stem().string().find(pid.substr(pid.find('.') + 1)) != std::string::npos)
                    hint = fmt::format("{} failed to load: {}", pr.path.string(), pr.reason);
            problems.add(fmt::format("nodes/{}/plugin", i), fmt::format("unknown plugin '{}' (node \"{}\"; {})", pid, id, hint));
            continue;
        }
        if (info->is_loss()) {
            problems.add(fmt::format("nodes/{}/plugin", i),
                         fmt::format("'{}' is a loss plugin: name it in a trainer's params, not as a node (node \"{}\")", pid, id));
            continue;
        }
        plugin[i] = info;
        params[i] = nodes[i].value("params", nlohmann::json::object());
        const std::string pointer = fmt::format("nodes/{}/params", i);
        substitute(params[i], g.inputs, pointer, declared, problems, id, options.defer_unbound ? &deferred : nullptr);
        info->params_schema->fill_defaults(params[i]);
        for (const auto& e : info->params_schema->validate(params[i]))
            problems.add(join_pointer(pointer, e.pointer), fmt::format("{} (node \"{}\", plugin {})", e.message, id, pid));
    }

    // Output file names: inside the folder, not the host's own, one writer each.
    std::map<std::string, std::string> writer_of; // normalised name -> node id
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (!plugin[i] || plugin[i]->is_source() || !params[i].is_object()) continue;
        const std::string id = nodes[i]["id"];
        const nlohmann::json written = nodes[i].value("params", nlohmann::json::object());
        for (const auto& [key, v] : params[i].items()) {
            if (!is_output_name_param(key) || !v.is_string() || v.get<std::string>().empty()) continue;
            if (is_declared_input_path(plugin[i]->params_schema->json(), key)) continue;
            // A name made from an input path is the plugin's to resolve; the
            // folder still refuses it at run time if it escapes.
            if (written.is_object() && written.contains(key) && written[key].is_string() &&
                written[key].get<std::string>().find("${inputs.") != std::string::npos)
                continue;
            const std::string name = v.get<std::string>();
            const std::string pointer = join_pointer(fmt::format("nodes/{}/params", i), key);
            if (const std::string why = output_name_problem(name); !why.empty()) {
                problems.add(pointer, fmt::format("output name '{}': {} (node \"{}\")", name, why, id));
                continue;
            }
            const std::string norm = fs::path(name).lexically_normal().string();
            if (const auto [it, fresh] = writer_of.emplace(norm, id); !fresh && it->second != id)
                problems.add(pointer, fmt::format("output '{}' is also written by node \"{}\" (node \"{}\")", name, it->second, id));
        }
    }

    // Edges.
    struct Wire { size_t from, to; int32_t out, in; size_t edge; };
    std::vector<Wire> wires;
    auto split = [](const std::string& s) { const auto d = s.find('.'); return std::make_pair(s.substr(0, d), s.substr(d + 1)); };
    for (size_t j = 0; j < edges.size(); ++j) {
        const auto [fn, fp] = split(edges[j]["from"].get<std::string>());
        const auto [tn, tp] = split(edges[j]["to"].get<std::string>());
        const auto f = index_of.find(fn), t = index_of.find(tn);
        if (f == index_of.end()) { problems.add(fmt::format("edges/{}/from", j), fmt::format("no node \"{}\"", fn)); continue; }
        if (t == index_of.end()) { problems.add(fmt::format("edges/{}/to", j), fmt::format("no node \"{}\"", tn)); continue; }
        if (dropped[f->second] || dropped[t->second]) continue;
        const PluginInfo* pf = plugin[f->second];
        const PluginInfo* pt = plugin[t->second];
        if (!pf || !pt) continue; // already reported
        const int32_t out = port_index(pf->desc->outputs, pf->desc->n_outputs, fp);
        const int32_t in = port_index(pt->desc->inputs, pt->desc->n_inputs, tp);
        if (out < 0) {
            problems.add(fmt::format("edges/{}/from", j), fmt::format("node \"{}\" ({}) has no output port '{}' (outputs: {})",
                                                                     fn, pf->desc->id, fp, port_names(pf->desc->outputs, pf->desc->n_outputs)));
            continue;
        }
        if (in < 0) {
            problems.add(fmt::format("edges/{}/to", j), fmt::format("node \"{}\" ({}) has no input port '{}' (inputs: {})",
                                                                   tn, pt->desc->id, tp, port_names(pt->desc->inputs, pt->desc->n_inputs)));
            continue;
        }
        const auto& po = pf->desc->outputs[out];
        const auto& pi = pt->desc->inputs[in];
        if (!port_accepts(pi, po)) {
            problems.add(fmt::format("edges/{}", j), fmt::format("{}.{} gives '{}' but {}.{} takes '{}'", fn, fp, po.type, tn, tp, pi.type));
            continue;
        }
        wires.push_back({f->second, t->second, out, in, j});
    }

    // Cascade the drops through required inputs whose every edge came from a
    // dropped node.
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < nodes.size(); ++i) {
            if (dropped[i] || !plugin[i]) continue;
            for (uint32_t p = 0; p < plugin[i]->desc->n_inputs; ++p) {
                if (plugin[i]->desc->inputs[p].flags & SPOTFLOW_PORT_OPTIONAL) continue;
                bool had = false, live = false;
                for (size_t j = 0; j < edges.size(); ++j) {
                    const auto [tn, tp] = split(edges[j]["to"].get<std::string>());
                    if (tn != nodes[i]["id"] || tp != plugin[i]->desc->inputs[p].name) continue;
                    had = true;
                    const auto f = index_of.find(split(edges[j]["from"].get<std::string>()).first);
                    if (f != index_of.end() && !dropped[f->second]) live = true;
                }
                if (had && !live) { dropped[i] = true; changed = true; break; }
            }
        }
    }
    wires.erase(std::remove_if(wires.begin(), wires.end(), [&](const Wire& w) { return dropped[w.from] || dropped[w.to]; }),
                wires.end());

    // Dropping for unbound optional inputs must leave something to do: with
    // only readers left the run would succeed and produce nothing.
    if (std::count(dropped.begin(), dropped.end(), true) > 0 && problems.lines.empty()) {
        bool work_left = false;
        for (size_t i = 0; i < nodes.size(); ++i)
            if (!dropped[i] && plugin[i] && !plugin[i]->is_source()) work_left = true;
        if (!work_left) {
            std::string unbound;
            for (const auto& name : optional_inputs)
                if (!g.inputs.count(name)) unbound += (unbound.empty() ? "" : ", ") + name;
            problems.lines.push_back(fmt::format("{}: inputs: with {} unbound nothing is left to run but the readers; "
                                                 "bind at least one of them (--input NAME=PATH)",
                                                 problems.file, unbound));
        }
    }

    // Every required input connected; single inputs take one edge.
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (dropped[i] || !plugin[i]) continue;
        for (uint32_t p = 0; p < plugin[i]->desc->n_inputs; ++p) {
            const auto& port = plugin[i]->desc->inputs[p];
            const auto n = std::count_if(wires.begin(), wires.end(), [&](const Wire& w) { return w.to == i && w.in == static_cast<int32_t>(p); });
            if (n == 0 && !(port.flags & SPOTFLOW_PORT_OPTIONAL))
                problems.add(fmt::format("nodes/{}", i), fmt::format("input port '{}' of node \"{}\" ({}) is not connected",
                                                                     port.name, nodes[i]["id"].get<std::string>(), plugin[i]->desc->id));
            if (n > 1 && !(port.flags & SPOTFLOW_PORT_MULTIPLE))
                problems.add(fmt::format("nodes/{}", i), fmt::format("input port '{}' of node \"{}\" takes one edge, the recipe gives it {}",
                                                                     port.name, nodes[i]["id"].get<std::string>(), n));
        }
    }

    if (!problems.lines.empty()) throw UserErrors(problems.lines);

    // Topological order (Kahn); what is left over sits on a cycle.
    std::vector<size_t> indegree(nodes.size(), 0), order;
    for (const auto& w : wires) ++indegree[w.to];
    std::vector<size_t> ready;
    for (size_t i = 0; i < nodes.size(); ++i)
        if (!dropped[i] && indegree[i] == 0) ready.push_back(i);
    while (!ready.empty()) {
        const size_t i = ready.front();
        ready.erase(ready.begin());
        order.push_back(i);
        for (const auto& w : wires)
            if (w.from == i && --indegree[w.to] == 0) ready.push_back(w.to);
    }
    const size_t live = static_cast<size_t>(std::count(dropped.begin(), dropped.end(), false));
    if (order.size() != live) {
        std::string cyc;
        for (size_t i = 0; i < nodes.size(); ++i)
            if (!dropped[i] && indegree[i] > 0) cyc += (cyc.empty() ? "" : ", ") + nodes[i]["id"].get<std::string>();
        throw UserErrors({fmt::format("{}: edges: the graph has a cycle through nodes {}", problems.file, cyc)});
    }

    std::vector<size_t> position(nodes.size(), 0);
    nlohmann::json resolved = doc;
    resolved["nodes"] = nlohmann::json::array();
    resolved["edges"] = nlohmann::json::array();
    for (size_t k = 0; k < order.size(); ++k) {
        const size_t i = order[k];
        position[i] = k;
        g.nodes.push_back({nodes[i]["id"].get<std::string>(), plugin[i], params[i], i});
        resolved["nodes"].push_back({{"id", nodes[i]["id"]}, {"plugin", nodes[i]["plugin"]}, {"params", params[i]}});
    }
    for (const auto& w : wires) {
        g.edges.push_back({{position[w.from], w.out}, {position[w.to], w.in}});
        resolved["edges"].push_back(edges[w.edge]);
    }
    resolved["seed"] = g.seed;
    resolved["inputs"] = nlohmann::json::object();
    for (const auto& [name, spec] : inputs.items()) {
        resolved["inputs"][name] = spec;
        if (g.inputs.count(name)) resolved["inputs"][name]["bound"] = g.inputs[name];
    }
    g.resolved_recipe = std::move(resolved);
    if (options.defer_unbound)
        for (const auto& name : declared) {
            if (g.inputs.count(name)) continue;
            const auto d = deferred.find(name);
            g.unbound.push_back({name, optional_inputs.count(name) > 0,
                                 d == deferred.end() ? std::vector<std::string>{}
                                                     : std::vector<std::string>(d->second.begin(), d->second.end())});
        }
    return g;
}

} // namespace spotflow

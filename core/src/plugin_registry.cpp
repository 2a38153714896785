#include "plugin_registry.hpp"

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>

namespace spotflow {

struct LoadedLibrary {
    boost::dll::shared_library lib;
    const spotflow_plugin_entry* entry = nullptr;
};

namespace fs = std::filesystem;

namespace {

// dlopen maps a library by the sizes its ELF headers declare; a truncated
// file then faults with SIGBUS on the first touch of a missing page, with no
// message. So check the headers against the file's length first. Returns ""
// for a sane 64-bit ELF shared object (or anything that is no ELF: dlopen
// reports those itself), else the problem.
std::string elf_problem(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return "";
    std::error_code ec;
    const uint64_t size = fs::file_size(file, ec);
    if (ec) return "";
    Elf64_Ehdr eh{};
    in.read(reinterpret_cast<char*>(&eh), sizeof eh);
    if (in.gcount() < 4 || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return "";
    if (static_cast<size_t>(in.gcount()) < sizeof eh) return fmt::format("truncated ELF file: {} bytes, shorter than its header", size);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) return "not a 64-bit ELF library";
    auto beyond = [&](uint64_t off, uint64_t count, uint64_t entsize) {
        return off > size || (entsize && count > (size - off) / entsize);
    };
    if (beyond(eh.e_phoff, eh.e_phnum, eh.e_phentsize) || eh.e_phentsize != sizeof(Elf64_Phdr))
        return fmt::format("truncated or corrupt ELF file: its program headers end past its {} bytes", size);
    if (eh.e_shnum && beyond(eh.e_shoff, eh.e_shnum, eh.e_shentsize))
        return fmt::format("truncated or corrupt ELF file: its section headers end past its {} bytes (a partial copy?)", size);
    for (uint16_t i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        in.seekg(static_cast<std::streamoff>(eh.e_phoff + uint64_t{i} * eh.e_phentsize));
        in.read(reinterpret_cast<char*>(&ph), sizeof ph);
        if (!in) return "truncated ELF file: cannot read its program headers";
        if (ph.p_type == PT_LOAD && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset))
            return fmt::format("truncated or corrupt ELF file: segment {} ends at byte {}, past its {} bytes", i,
                               ph.p_offset + ph.p_filesz, size);
    }
    return "";
}

const std::set<std::string> kKinds = {"source", "detector", "linker", "gapfiller", "extractor",
                                      "evaluator", "writer", "figure", "trainer", "loss",
                                      "segmenter", "classifier", "filter"};

bool valid_id(const char* s) {
    static const std::regex re("^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$");
    return s && std::regex_match(s, re);
}

std::string check_ports(const spotflow_port_desc* ports, uint32_t n, const char* side) {
    static const std::regex name_re("^[a-z][a-z0-9_]*$");
    if (n > 0 && !ports) return fmt::format("{} ports are NULL", side);
    std::set<std::string> seen;
    for (uint32_t i = 0; i < n; ++i) {
        const auto& p = ports[i];
        if (!p.name || !std::regex_match(p.name, name_re))
            return fmt::format("{} port {} has an invalid name", side, i);
        if (!seen.insert(p.name).second) return fmt::format("{} port '{}' is declared twice", side, p.name);
        if (!p.type || !*p.type) return fmt::format("{} port '{}' has no type", side, p.name);
        if (p.kind != SPOTFLOW_DATA_TENSOR && p.kind != SPOTFLOW_DATA_TABLE)
            return fmt::format("{} port '{}' has an unknown data kind {}", side, p.name, p.kind);
    }
    return "";
}

std::string hex_sha256(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return "";
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 16);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    std::string out;
    for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
    return out;
}

} // namespace

std::string PluginInfo::library_sha256() const {
    static std::mutex mu;
    static std::map<std::string, std::string> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto& h = cache[path.string()];
    if (h.empty()) h = hex_sha256(path);
    return h;
}

size_t loss_vtable_bytes(uint32_t abi_minor) {
    // 1.0's table: create, compute, parameter_count, parameter, destroy.
    // A minor that appends to spotflow_loss_vtable adds its size here.
    constexpr size_t k1_0 = offsetof(spotflow_loss_vtable, destroy) + sizeof(void (*)(void*));
    static_assert(k1_0 <= sizeof(spotflow_loss_vtable), "the 1.0 loss vtable is a prefix of this one");
    return abi_minor == 0 ? k1_0 : sizeof(spotflow_loss_vtable);
}

std::unique_ptr<spotflow_loss_vtable> widen_loss_vtable(const spotflow_loss_vtable& v, uint32_t abi_minor) {
    auto out = std::make_unique<spotflow_loss_vtable>();
    std::memset(static_cast<void*>(out.get()), 0, sizeof *out);
    std::memcpy(static_cast<void*>(out.get()), &v, std::min(loss_vtable_bytes(abi_minor), sizeof *out));
    return out;
}

std::string check_descriptor(const spotflow_plugin_desc& d) {
    if (!valid_id(d.id)) return fmt::format("invalid plugin id '{}' (want dotted lower-case, e.g. detect.wavelet)",
                                            d.id ? d.id : "");
    if (!d.version || !std::regex_match(d.version, std::regex("^[0-9]+\\.[0-9]+\\.[0-9]+([-+].*)?$")))
        return fmt::format("plugin '{}' has an invalid version (want semver)", d.id);
    if (!d.summary || !*d.summary) return fmt::format("plugin '{}' has no summary", d.id);
    if (!d.kind || !kKinds.count(d.kind)) return fmt::format("plugin '{}' has an unknown kind '{}'", d.id, d.kind ? d.kind : "");
    const bool loss = std::strcmp(d.kind, "loss") == 0;
    // Only 1.0 fields are read here, so any 1.x library can be checked.
    if (loss) {
        if (!d.loss || d.node) return fmt::format("loss plugin '{}' must set the loss vtable and only it", d.id);
        const auto& v = *d.loss;
        if (!v.create || !v.compute || !v.parameter_count || !v.parameter || !v.destroy)
            return fmt::format("loss plugin '{}' leaves a vtable function NULL", d.id);
        if (d.n_inputs || d.n_outputs) return fmt::format("loss plugin '{}' must not declare ports", d.id);
    } else {
        if (!d.node || d.loss) return fmt::format("plugin '{}' must set the node vtable and only it", d.id);
        const auto& v = *d.node;
        if (!v.create || !v.finish || !v.destroy) return fmt::format("plugin '{}' leaves create, finish or destroy NULL", d.id);
        if (d.n_inputs == 0 && !v.pull) return fmt::format("source plugin '{}' has no pull function", d.id);
        if (d.n_inputs > 0 && !v.process) return fmt::format("plugin '{}' has inputs but no process function", d.id);
    }
    if (auto r = check_ports(d.inputs, d.n_inputs, "input"); !r.empty()) return fmt::format("plugin '{}': {}", d.id, r);
    if (auto r = check_ports(d.outputs, d.n_outputs, "output"); !r.empty()) return fmt::format("plugin '{}': {}", d.id, r);
    if (!d.params_schema) return fmt::format("plugin '{}' has no params schema", d.id);
    return "";
}

PluginRegistry::PluginRegistry()
    : index_(std::make_unique<PluginIndex>(PluginIndex::default_path())), load_mutex_(std::make_unique<std::mutex>()) {}
PluginRegistry::~PluginRegistry() = default;
PluginRegistry::PluginRegistry(PluginRegistry&&) noexcept = default;
PluginRegistry& PluginRegistry::operator=(PluginRegistry&&) noexcept = default;

void PluginRegistry::add_folder(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    folders_.push_back(dir);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".so") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        const fs::path canonical = fs::weakly_canonical(f, ec);
        if (std::find(loaded_files_.begin(), loaded_files_.end(), canonical) != loaded_files_.end()) continue;
        if (deferred_files_.count(canonical)) continue;
        if (const auto ids = index_->lookup(canonical)) {
            // Known and unchanged: defer, unless an id is taken already
            // (then load it now, so the duplicate is reported as ever).
            const bool clash = std::any_of(ids->begin(), ids->end(),
                                           [&](const std::string& id) { return plugins_.count(id) || deferred_.count(id); });
            if (!clash && !ids->empty()) {
                for (const auto& id : *ids) deferred_.emplace(id, f);
                deferred_files_.insert(canonical);
                continue;
            }
        }
        const size_t problems_before = problems_.size();
        add_library(f);
        if (problems_.size() != problems_before) continue; // never remembered: reported every run
        std::vector<std::string> ids;
        for (const auto& [id, info] : plugins_)
            if (fs::weakly_canonical(info->path, ec) == canonical) ids.push_back(id);
        index_->record(canonical, ids);
    }
    index_->save();
}

void PluginRegistry::load_deferred(fs::path file) { // by value: it may point into deferred_
    for (auto it = deferred_.begin(); it != deferred_.end();)
        it = it->second == file ? deferred_.erase(it) : std::next(it);
    std::error_code ec;
    deferred_files_.erase(fs::weakly_canonical(file, ec));
    add_library(file);
}

void PluginRegistry::add_library(const fs::path& file) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(file, ec);
    if (std::find(loaded_files_.begin(), loaded_files_.end(), canonical) != loaded_files_.end()) return;
    loaded_files_.push_back(canonical);

    if (const std::string why = elf_problem(file); !why.empty()) {
        problems_.push_back({file, fmt::format("cannot load: {}", why)});
        return;
    }
    auto lib = std::make_shared<LoadedLibrary>();
    // RTLD_NODELETE: a plugin is never unmapped, so nothing taken from it
    // (vtables, static strings, thread-local destructors of LibTorch or ITK)
    // can dangle during shutdown.
    const auto mode = static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    boost::dll::fs::error_code dll_ec;
    lib->lib.load(boost::dll::fs::path(file.string()), dll_ec, mode);
    if (dll_ec) {
        const char* why = dlerror();
        problems_.push_back({file, fmt::format("cannot load: {}", why ? why : dll_ec.message())});
        return;
    }
    if (!lib->lib.has(SPOTFLOW_ENTRY_SYMBOL)) {
        problems_.push_back({file, "not a spotflow plugin: no 'spotflow_entry' symbol"});
        return;
    }
    lib->entry = &lib->lib.get<const spotflow_plugin_entry>(SPOTFLOW_ENTRY_SYMBOL);
    const auto abi = lib->entry->abi;
    if (abi.major != SPOTFLOW_ABI_MAJOR) {
        problems_.push_back({file, fmt::format("built for plugin ABI {}.{}, this host speaks {}.{}: rebuild it "
                                               "against this spotflow SDK",
                                               abi.major, abi.minor, SPOTFLOW_ABI_MAJOR, SPOTFLOW_ABI_MINOR)});
        return;
    }
    if (!lib->entry->plugin_count || !lib->entry->plugin) {
        problems_.push_back({file, "spotflow_entry leaves plugin_count or plugin NULL"});
        return;
    }
    const uint32_t n = lib->entry->plugin_count();
    for (uint32_t i = 0; i < n; ++i) {
        const spotflow_plugin_desc* d = lib->entry->plugin(i);
        if (!d) {
            problems_.push_back({file, fmt::format("plugin {} of {}: descriptor is NULL", i, n)});
            continue;
        }
        if (auto why = check_descriptor(*d); !why.empty()) {
            problems_.push_back({file, why});
            continue;
        }
        auto info = std::make_unique<PluginInfo>();
        info->library = lib;
        info->desc = d;
        info->path = file;
        info->folder = fs::absolute(file, ec).parent_path().lexically_normal().string();
        info->abi = abi;
        if (d->loss) info->loss_vtable = widen_loss_vtable(*d->loss, abi.minor);
        try {
            info->params_schema = std::make_unique<JsonSchema>(nlohmann::json::parse(d->params_schema));
        } catch (const std::exception& e) {
            problems_.push_back({file, fmt::format("plugin '{}': params schema: {}", d->id, e.what())});
            continue;
        }
        if (const auto it = plugins_.find(d->id); it != plugins_.end()) {
            problems_.push_back({file, fmt::format("plugin '{}' is already provided by {}; this one is ignored", d->id,
                                                   it->second->path.string())});
            continue;
        }
        if (const auto it = deferred_.find(d->id); it != deferred_.end()) {
            problems_.push_back({file, fmt::format("plugin '{}' is already provided by {}; this one is ignored", d->id,
                                                   it->second.string())});
            continue;
        }
        plugins_.emplace(d->id, std::move(info));
    }
}

// Loading a deferred library does not change which plugins the registry
// provides, only when their libraries are mapped: so find and all stay const.
const PluginInfo* PluginRegistry::find(const std::string& id) const {
    const std::lock_guard<std::mutex> lock(*load_mutex_);
    if (const auto d = deferred_.find(id); d != deferred_.end()) const_cast<PluginRegistry*>(this)->load_deferred(d->second);
    const auto it = plugins_.find(id);
    return it == plugins_.end() ? nullptr : it->second.get();
}

std::vector<const PluginInfo*> PluginRegistry::all() const {
    const std::lock_guard<std::mutex> lock(*load_mutex_);
    while (!deferred_.empty()) const_cast<PluginRegistry*>(this)->load_deferred(deferred_.begin()->second);
    std::vector<const PluginInfo*> out;
    for (const auto& [id, p] : plugins_) out.push_back(p.get());
    return out;
}

std::vector<fs::path> default_plugin_folders() {
    std::vector<fs::path> out;
    boost::dll::fs::error_code ec;
    const auto exe = boost::dll::program_location(ec);
    if (!ec) {
        const fs::path bundled = (fs::path(exe.parent_path().string()) / SPOTFLOW_PLUGIN_RELDIR).lexically_normal();
        out.push_back(bundled);
        // A build tree also holds the SDK's example plugins (example.threshold,
        // example.frame_stats) beside the bundled ones, so the example recipes
        // run as documented; an installed host has no such folder.
        const fs::path examples = bundled.parent_path() / "examples";
        std::error_code dir_ec;
        if (fs::is_directory(examples, dir_ec)) out.push_back(examples);
    }
    if (const char* env = std::getenv("SPOTFLOW_PLUGIN_PATH")) {
        std::stringstream ss(env);
        std::string item;
        while (std::getline(ss, item, ':'))
            if (!item.empty()) out.emplace_back(item);
    }
    return out;
}

} // namespace spotflow

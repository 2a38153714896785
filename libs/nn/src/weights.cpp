#include "spotflow_nn/weights.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

namespace spotflow::nn {

namespace {

constexpr char kMagic[8] = {'S', 'F', 'W', 'E', 'I', 'G', 'H', 'T'};
constexpr char kLegacyMagic[8] = {'S', 'F', 'D', 'E', 'C', 'O', 'D', 'E'};
constexpr uint32_t kVersion = 1;

uint64_t fnv1a(const char* p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
    return h;
}

template <class T> void put(std::string& out, T v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

std::string shape_str(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

} // namespace

NamedTensors module_tensors(torch::nn::Module& module) {
    NamedTensors out;
    for (const auto& p : module.named_parameters(true)) out.emplace_back(p.key(), p.value());
    for (const auto& b : module.named_buffers(true)) out.emplace_back(b.key(), b.value());
    return out;
}

void save_weights(const std::string& path, const nlohmann::json& network, const NamedTensors& tensors,
                  const nlohmann::json& model_card) {
    nlohmann::json listed = nlohmann::json::array();
    for (const auto& [name, t] : tensors) listed.push_back({{"name", name}, {"shape", t.sizes().vec()}});
    const std::string header =
        nlohmann::json{{"network", network}, {"tensors", listed}, {"model_card", model_card}}.dump();
    std::string out(kMagic, sizeof kMagic);
    put(out, kVersion);
    put(out, static_cast<uint64_t>(header.size()));
    out += header;
    for (const auto& [name, t] : tensors) {
        const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        out.append(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * sizeof(float));
    }
    put(out, fnv1a(out.data(), out.size()));
    const std::string tmp = path + ".partial";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f.write(out.data(), static_cast<std::streamsize>(out.size()));
        f.close();
        if (!f) {
            std::remove(tmp.c_str());
            throw std::runtime_error("cannot write weights file '" + path + "'");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot write weights file '" + path + "': " + ec.message());
    }
}

void save_weights(const std::string& path, const nlohmann::json& network, torch::nn::Module& module,
                  const nlohmann::json& model_card) {
    save_weights(path, network, module_tensors(module), model_card);
}

WeightFile read_weights(const std::string& path) {
    const auto fail = [&](const std::string& why) { return std::runtime_error("weights file '" + path + "': " + why); };
    std::ifstream f(path, std::ios::binary);
    if (!f) throw fail("cannot be opened (missing or unreadable)");
    const std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (data.size() < sizeof kMagic || (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0 &&
                                        std::memcmp(data.data(), kLegacyMagic, sizeof kMagic) != 0))
        throw fail("not a spotflow weights file (no SFWEIGHT signature)");
    size_t pos = sizeof kMagic;
    const auto need = [&](uint64_t n) {
        if (data.size() - pos < n) throw fail("truncated (" + std::to_string(data.size()) + " bytes)");
    };
    uint32_t version = 0;
    need(sizeof version);
    std::memcpy(&version, data.data() + pos, sizeof version);
    pos += sizeof version;
    if (version != kVersion) throw fail("format version " + std::to_string(version) + ", this build reads 1");
    uint64_t n = 0;
    need(sizeof n);
    std::memcpy(&n, data.data() + pos, sizeof n);
    pos += sizeof n;
    need(n);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(data.begin() + static_cast<std::ptrdiff_t>(pos),
                                       data.begin() + static_cast<std::ptrdiff_t>(pos + n));
    } catch (const std::exception&) {
        throw fail("its header is not valid JSON (corrupted or truncated)");
    }
    pos += n;
    if (!header.is_object() || !header.contains("network") || !header.contains("tensors") ||
        !header["tensors"].is_array())
        throw fail("its header lacks 'network' or 'tensors'");
    WeightFile out;
    out.path = path;
    out.network = header["network"];
    out.model_card = header.contains("model_card") ? header["model_card"]
                                                   : header.value("metadata", nlohmann::json::object());
    size_t bytes = 0;
    std::vector<std::vector<int64_t>> shapes;
    for (size_t i = 0; i < header["tensors"].size(); ++i) {
        const auto& e = header["tensors"][i];
        std::vector<int64_t> shape;
        std::string name;
        try {
            shape = e.at("shape").get<std::vector<int64_t>>();
            name = e.at("name").get<std::string>();
        } catch (const nlohmann::json::exception&) {
            throw fail("tensor " + std::to_string(i) + " has no name or shape");
        }
        int64_t count = 1;
        for (const int64_t d : shape) {
            if (d < 0 || d > (int64_t{1} << 32)) throw fail("tensor '" + name + "' has shape " + shape_str(shape));
            count *= d;
        }
        bytes += static_cast<size_t>(count) * sizeof(float);
        if (bytes > data.size()) throw fail("truncated (" + std::to_string(data.size()) + " bytes, the header lists more)");
        out.tensors.emplace_back(name, torch::Tensor());
        shapes.push_back(shape);
    }
    const size_t expected = pos + bytes + sizeof(uint64_t);
    if (data.size() != expected)
        throw fail(data.size() < expected ? "truncated (" + std::to_string(data.size()) + " bytes, expected " +
                                                std::to_string(expected) + ")"
                                          : "has " + std::to_string(data.size() - expected) + " trailing bytes");
    uint64_t hash = 0;
    std::memcpy(&hash, data.data() + pos + bytes, sizeof hash);
    if (hash != fnv1a(data.data(), pos + bytes)) throw fail("corrupted (checksum mismatch)");
    for (size_t i = 0; i < out.tensors.size(); ++i) {
        auto t = torch::empty(shapes[i], torch::kFloat32);
        const auto n_el = static_cast<size_t>(t.numel());
        std::memcpy(t.data_ptr<float>(), data.data() + pos, n_el * sizeof(float));
        pos += n_el * sizeof(float);
        out.tensors[i].second = t;
    }
    return out;
}

void load_into(const WeightFile& file, torch::nn::Module& module) {
    const auto fail = [&](const std::string& why) {
        return std::runtime_error("weights file '" + file.path + "': another architecture: " + why);
    };
    std::map<std::string, const torch::Tensor*> stored;
    for (const auto& [name, t] : file.tensors) stored[name] = &t;
    auto wanted = module_tensors(module);
    for (const auto& [name, t] : wanted) {
        const auto it = stored.find(name);
        if (it == stored.end()) throw fail("it has no tensor '" + name + "' (" + std::to_string(file.tensors.size()) +
                                           " tensors, the network has " + std::to_string(wanted.size()) + ")");
        if (it->second->sizes().vec() != t.sizes().vec())
            throw fail("tensor '" + name + "' has shape " + shape_str(it->second->sizes().vec()) +
                       ", the network expects " + shape_str(t.sizes().vec()));
    }
    if (stored.size() != wanted.size())
        throw fail(std::to_string(file.tensors.size()) + " tensors, the network has " + std::to_string(wanted.size()));
    torch::NoGradGuard ng;
    for (auto& [name, t] : wanted) t.copy_(*stored[name]);
}

} // namespace spotflow::nn

#include "weights.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace decode {

namespace {

constexpr char kMagic[8] = {'S', 'F', 'D', 'E', 'C', 'O', 'D', 'E'};
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

void save_weights(DecodeNet& net, const nlohmann::json& metadata, const std::string& path) {
    const auto params = named_parameters(net);
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& [name, t] : params) tensors.push_back({{"name", name}, {"shape", t.sizes().vec()}});
    const std::string header =
        nlohmann::json{{"network", net->config().to_json()}, {"tensors", tensors}, {"metadata", metadata}}.dump();
    std::string out(kMagic, sizeof kMagic);
    put(out, kVersion);
    put(out, static_cast<uint64_t>(header.size()));
    out += header;
    for (const auto& [name, t] : params) {
        const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        out.append(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * sizeof(float));
    }
    put(out, fnv1a(out.data(), out.size()));
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.close();
    if (!f) throw std::runtime_error("cannot write weights file '" + path + "'");
}

Loaded load_weights(const std::string& path) {
    const auto fail = [&](const std::string& why) { return std::runtime_error("weights file '" + path + "': " + why); };
    std::ifstream f(path, std::ios::binary);
    if (!f) throw fail("cannot be opened (missing or unreadable)");
    const std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
        throw fail("not a detect.decode weights file (no SFDECODE signature)");
    size_t pos = sizeof kMagic;
    const auto need = [&](size_t n) {
        if (data.size() < pos + n) throw fail("truncated (" + std::to_string(data.size()) + " bytes)");
    };
    uint32_t version = 0;
    need(sizeof version);
    std::memcpy(&version, data.data() + pos, sizeof version);
    pos += sizeof version;
    if (version != kVersion) throw fail("format version " + std::to_string(version) + ", this plugin reads 1");
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
    NetConfig cfg;
    try {
        cfg = NetConfig::from_json(header["network"]);
    } catch (const std::exception& e) {
        throw fail(std::string("another architecture: ") + e.what());
    }
    Loaded out;
    out.net = DecodeNet(cfg);
    out.metadata = header.value("metadata", nlohmann::json::object());
    auto params = named_parameters(out.net);
    const auto& listed = header["tensors"];
    if (listed.size() != params.size())
        throw fail("another architecture: " + std::to_string(listed.size()) + " tensors, the network described has " +
                   std::to_string(params.size()));
    size_t bytes = 0;
    for (size_t i = 0; i < params.size(); ++i) {
        const auto& [name, t] = params[i];
        const auto& e = listed[i];
        std::vector<int64_t> shape;
        try {
            shape = e.at("shape").get<std::vector<int64_t>>();
            if (e.at("name").get<std::string>() != name)
                throw fail("another architecture: tensor " + std::to_string(i) + " is '" +
                           e.at("name").get<std::string>() + "', expected '" + name + "'");
        } catch (const nlohmann::json::exception&) {
            throw fail("tensor " + std::to_string(i) + " has no name or shape");
        }
        if (shape != t.sizes().vec())
            throw fail("another architecture: tensor '" + name + "' has shape " + shape_str(shape) +
                       ", the network expects " + shape_str(t.sizes().vec()));
        bytes += static_cast<size_t>(t.numel()) * sizeof(float);
    }
    if (data.size() != pos + bytes + sizeof(uint64_t))
        throw fail(data.size() < pos + bytes + sizeof(uint64_t)
                       ? "truncated (" + std::to_string(data.size()) + " bytes, expected " +
                             std::to_string(pos + bytes + sizeof(uint64_t)) + ")"
                       : "has " + std::to_string(data.size() - pos - bytes - sizeof(uint64_t)) + " trailing bytes");
    uint64_t hash = 0;
    std::memcpy(&hash, data.data() + pos + bytes, sizeof hash);
    if (hash != fnv1a(data.data(), pos + bytes)) throw fail("corrupted (checksum mismatch)");
    torch::NoGradGuard ng;
    for (auto& [name, t] : params) {
        const auto n_el = static_cast<size_t>(t.numel());
        std::memcpy(t.data_ptr<float>(), data.data() + pos, n_el * sizeof(float));
        pos += n_el * sizeof(float);
    }
    return out;
}

} // namespace decode

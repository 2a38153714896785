#include "spotflow_imageset/imageset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "spotflow/plugin_error.hpp"
#include "spotflow_csv/csv_records.hpp"
#include "spotflow_csv/csv_values.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "tiffio/image.hpp"

namespace spotflow::imageset {

namespace fs = std::filesystem;

namespace {

bool is_tiff(const fs::path& p) {
    std::string e = p.extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e == ".tif" || e == ".tiff";
}
bool ends_with(const std::string& s, const std::string& t) { return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0; }

std::string find_mask(const fs::path& dir, const std::string& stem) {
    for (const char* ext : {".tif", ".tiff", ".TIF", ".TIFF"}) {
        const fs::path p = dir / (stem + "_mask" + ext);
        if (fs::is_regular_file(p)) return p.string();
    }
    return "";
}

} // namespace

MaskKind mask_kind_from(const std::string& name) {
    if (name == "binary") return MaskKind::Binary;
    if (name == "labels") return MaskKind::Labels;
    if (name == "auto") return MaskKind::Auto;
    throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "mask kind '" + name + "': auto, binary or labels");
}

std::vector<Entry> scan_folder(const std::string& dir, bool masks_required) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw PluginError(SPOTFLOW_ERR_IO, fmt::format("image folder '{}' does not exist or is not a folder", dir));
    const fs::path root(dir);
    const bool pair = fs::is_directory(root / "images", ec);
    const fs::path images = pair ? root / "images" : root;
    const fs::path masks = pair ? root / "masks" : root;
    std::vector<Entry> out;
    for (const auto& f : fs::directory_iterator(images, ec)) {
        if (!f.is_regular_file() || !is_tiff(f.path())) continue;
        const std::string stem = f.path().stem().string();
        if (ends_with(stem, "_mask") || ends_with(stem, "_prob")) continue;
        Entry e;
        e.stem = stem;
        e.image = f.path().string();
        e.mask = find_mask(masks, stem);
        if (masks_required && e.mask.empty())
            throw PluginError(SPOTFLOW_ERR_IO, fmt::format("image '{}' has no mask '{}'", e.image, (masks / (stem + "_mask.tif")).string()));
        out.push_back(std::move(e));
    }
    if (ec) throw PluginError(SPOTFLOW_ERR_IO, fmt::format("cannot list '{}': {}", images.string(), ec.message()));
    if (out.empty()) throw PluginError(SPOTFLOW_ERR_IO, fmt::format("image folder '{}' holds no .tif images", images.string()));
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.stem < b.stem; });
    for (size_t i = 0; i < out.size(); ++i) out[i].index = static_cast<int64_t>(i);
    return out;
}

std::vector<Entry> read_manifest(const std::string& path) {
    spotflow_csv::CsvRecords r(path);
    std::vector<std::string> f;
    if (!r.next(f)) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("manifest '{}' is empty", path));
    int ci = -1, cm = -1, cs = -1;
    for (size_t i = 0; i < f.size(); ++i) {
        const std::string h(spotflow_csv::trim(f[i]));
        if (h == "image_path" || h == "image") ci = static_cast<int>(i);
        else if (h == "mask_path" || h == "mask") cm = static_cast<int>(i);
        else if (h == "split") cs = static_cast<int>(i);
    }
    if (ci < 0) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("manifest '{}': no column image_path (or image) in the header", path));
    const fs::path base = fs::path(path).parent_path();
    const auto resolve = [&](const std::string& p) { return fs::path(p).is_absolute() || base.empty() ? p : (base / p).string(); };
    std::vector<Entry> out;
    std::set<std::string> stems;
    while (r.next(f)) {
        if (f.size() == 1 && spotflow_csv::trim(f[0]).empty()) continue;
        const auto field = [&](int c) { return c >= 0 && c < static_cast<int>(f.size()) ? std::string(spotflow_csv::trim(f[static_cast<size_t>(c)])) : std::string(); };
        Entry e;
        e.index = static_cast<int64_t>(out.size());
        const std::string img = field(ci);
        if (img.empty()) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("manifest '{}' line {}: empty image_path", path, r.line()));
        e.image = resolve(img);
        const std::string m = field(cm);
        e.mask = m.empty() ? "" : resolve(m);
        e.split = field(cs);
        if (!e.split.empty() && e.split != "train" && e.split != "val" && e.split != "test")
            throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("manifest '{}' line {}: split '{}' is not train, val or test", path, r.line(), e.split));
        e.stem = fs::path(e.image).stem().string();
        if (!stems.insert(e.stem).second)
            throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("manifest '{}' line {}: a second image named '{}' (outputs are named by stem)", path, r.line(), e.stem));
        std::error_code ec;
        if (!fs::is_regular_file(e.image, ec))
            throw PluginError(SPOTFLOW_ERR_IO, fmt::format("manifest '{}' line {}: image '{}' does not exist", path, r.line(), e.image));
        if (!e.mask.empty() && !fs::is_regular_file(e.mask, ec))
            throw PluginError(SPOTFLOW_ERR_IO, fmt::format("manifest '{}' line {}: mask '{}' does not exist", path, r.line(), e.mask));
        out.push_back(std::move(e));
    }
    if (out.empty()) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("manifest '{}' lists no images", path));
    return out;
}

Mask read_mask(const spotflow_host* host, const std::string& path, MaskKind kind, int64_t width, int64_t height) {
    const tiffio::Image img = tiffio::read_image(host, path);
    if (img.width != width || img.height != height)
        throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("mask '{}' is {} x {} px but its image is {} x {}", path, img.width,
                                                           img.height, width, height));
    Mask m;
    m.width = width;
    m.height = height;
    m.labels.resize(img.pixels.size());
    std::set<float> values;
    for (size_t i = 0; i < img.pixels.size(); ++i) {
        const float v = img.pixels[i];
        if (!(v == std::floor(v)) || v < -1 || (v < 0 && !img.info.is_signed && !img.info.is_float) || v > 2147483647.0f)
            throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("mask '{}': pixel ({}, {}) is {}; a mask holds 0, labels > 0 and -1 (ignore)", path,
                                                               static_cast<int64_t>(i) % width, static_cast<int64_t>(i) / width, v));
        m.labels[i] = static_cast<int32_t>(v);
        if (values.size() < 3 && v > 0) values.insert(v);
    }
    m.binary = values.size() <= 1;
    if (kind == MaskKind::Binary && !m.binary)
        throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("mask '{}' is not binary: it holds {} and {} besides 0 (set mask_kind to labels for instance masks)",
                                                           path, *values.begin(), *std::next(values.begin())));
    if (m.binary) for (int32_t& l : m.labels) l = l > 0 ? 1 : l;
    return m;
}

void validate(const spotflow_host* host, std::vector<Entry>& entries, MaskKind kind, int64_t min_side) {
    for (Entry& e : entries) {
        const tiffio::ImageInfo ii = tiffio::image_info(host, e.image);
        if (ii.width < min_side || ii.height < min_side)
            throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}' is {} x {} px; at least {} x {} is needed", e.image, ii.width,
                                                               ii.height, min_side, min_side));
        e.width = ii.width;
        e.height = ii.height;
        if (!e.mask.empty()) {
            const tiffio::ImageInfo mi = tiffio::image_info(host, e.mask);
            if (mi.width != ii.width || mi.height != ii.height)
                throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("mask '{}' is {} x {} px but its image '{}' is {} x {}", e.mask, mi.width,
                                                                   mi.height, e.image, ii.width, ii.height));
            read_mask(host, e.mask, kind, ii.width, ii.height); // the values
        }
    }
}

void assign_splits(std::vector<Entry>& entries, double val_fraction, double test_fraction, uint64_t seed) {
    std::vector<size_t> open;
    for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].split.empty()) open.push_back(i);
    std::mt19937_64 rng(seed);
    std::shuffle(open.begin(), open.end(), rng);
    const auto n = static_cast<double>(open.size());
    const auto n_val = static_cast<size_t>(std::lround(val_fraction * n));
    const auto n_test = std::min(open.size() - n_val, static_cast<size_t>(std::lround(test_fraction * n)));
    for (size_t k = 0; k < open.size(); ++k) entries[open[k]].split = k < n_val ? "val" : k < n_val + n_test ? "test" : "train";
}

std::string manifest_csv(const std::vector<Entry>& entries, const std::string& only_split) {
    std::string out = "image_path,mask_path,split\n";
    for (const Entry& e : entries) {
        if (!only_split.empty() && e.split != only_split) continue;
        spotflow_csv::append_field(out, e.image);
        out += ',';
        spotflow_csv::append_field(out, e.mask);
        out += ',';
        spotflow_csv::append_field(out, e.split);
        out += '\n';
    }
    return out;
}

TableBuilder to_table(const std::vector<Entry>& entries) {
    TableBuilder b;
    const auto ci = b.add_column("index", ColumnType::Int64), cs = b.add_column("stem", ColumnType::Utf8),
               cim = b.add_column("image", ColumnType::Utf8), cm = b.add_column("mask", ColumnType::Utf8),
               csp = b.add_column("split", ColumnType::Utf8), cw = b.add_column("width", ColumnType::Int64),
               ch = b.add_column("height", ColumnType::Int64);
    for (const Entry& e : entries) {
        b.append_int(ci, e.index);
        b.append_string(cs, e.stem);
        b.append_string(cim, e.image);
        if (e.mask.empty()) b.append_null(cm);
        else b.append_string(cm, e.mask);
        b.append_string(csp, e.split);
        b.append_int(cw, e.width);
        b.append_int(ch, e.height);
    }
    return b;
}

std::vector<Entry> from_table(const TableView& t) {
    const int64_t ci = t.require("index"), cs = t.require("stem"), cim = t.require("image"), cm = t.require("mask"),
                  csp = t.require("split"), cw = t.require("width"), ch = t.require("height");
    std::vector<Entry> out;
    for (int64_t r = 0; r < t.rows(); ++r) {
        Entry e;
        e.index = t.get_int(ci, r);
        e.stem = std::string(t.get_string(cs, r));
        e.image = std::string(t.get_string(cim, r));
        e.mask = t.is_null(cm, r) ? "" : std::string(t.get_string(cm, r));
        e.split = std::string(t.get_string(csp, r));
        e.width = t.get_int(cw, r);
        e.height = t.get_int(ch, r);
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace spotflow::imageset

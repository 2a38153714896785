// read.coordinates: seed 002's data layout, an image folder plus a
// coordinates.json (image name -> list of particle centres), as images and
// disk label masks of a param radius. See README.md.
#include <cairo/cairo.h>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin.h"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_sim/particles.hpp"
#include "tiffio/tiff_errors.hpp"
#include "schema.json.hpp"

namespace read_coordinates {

namespace fs = std::filesystem;
using spotflow::PluginError;

PluginError bad(const std::string& m) { return PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, m); }

struct Image {
    int64_t w = 0, h = 0;
    std::vector<float> pixels;
};

// The first page of a greyscale TIFF (8/16/32-bit unsigned, 32-bit float).
Image read_tiff(const spotflow_host* host, const std::string& path) {
    tiffio::TiffErrors errors(host, path);
    TIFF* t = errors.open("r");
    if (!t) throw PluginError(SPOTFLOW_ERR_IO, "image '" + path + "': " + errors.take_error());
    struct Closer {
        TIFF* t;
        ~Closer() { TIFFClose(t); }
    } closer{t};
    uint32_t w = 0, h = 0;
    uint16_t bits = 0, spp = 1, fmt = SAMPLEFORMAT_UINT;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt);
    if (spp != 1) throw bad("image '" + path + "': " + std::to_string(spp) + " samples per pixel, expected greyscale");
    if (w == 0 || h == 0 || static_cast<uint64_t>(w) * h > (uint64_t{1} << 28)) throw bad("image '" + path + "': bad size");
    if (TIFFIsTiled(t)) throw bad("image '" + path + "': tiled TIFFs are not supported");
    const bool ok = (fmt == SAMPLEFORMAT_UINT && (bits == 8 || bits == 16 || bits == 32)) || (fmt == SAMPLEFORMAT_IEEEFP && bits == 32);
    if (!ok) throw bad("image '" + path + "': " + std::to_string(bits) + "-bit samples of format " + std::to_string(fmt) + " are not supported");
    Image im{w, h, std::vector<float>(static_cast<size_t>(w) * h)};
    std::vector<unsigned char> row(static_cast<size_t>(TIFFScanlineSize(t)));
    for (uint32_t y = 0; y < h; ++y) {
        if (TIFFReadScanline(t, row.data(), y, 0) < 0) throw PluginError(SPOTFLOW_ERR_IO, "image '" + path + "': " + errors.take_error());
        for (uint32_t x = 0; x < w; ++x) {
            float v;
            if (bits == 8) v = row[x];
            else if (bits == 16) v = reinterpret_cast<const uint16_t*>(row.data())[x];
            else if (fmt == SAMPLEFORMAT_UINT) v = static_cast<float>(reinterpret_cast<const uint32_t*>(row.data())[x]);
            else v = reinterpret_cast<const float*>(row.data())[x];
            im.pixels[static_cast<size_t>(y) * w + x] = v;
        }
    }
    return im;
}

// A PNG through cairo (8 bits per channel), as the mean of its colour channels.
Image read_png(const std::string& path) {
    cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        const std::string why = cairo_status_to_string(cairo_surface_status(s));
        cairo_surface_destroy(s);
        throw PluginError(SPOTFLOW_ERR_IO, "image '" + path + "': " + why);
    }
    cairo_surface_flush(s);
    Image im{cairo_image_surface_get_width(s), cairo_image_surface_get_height(s), {}};
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* d = cairo_image_surface_get_data(s);
    const cairo_format_t f = cairo_image_surface_get_format(s);
    im.pixels.resize(static_cast<size_t>(im.w * im.h));
    for (int64_t y = 0; y < im.h; ++y)
        for (int64_t x = 0; x < im.w; ++x) {
            float v;
            if (f == CAIRO_FORMAT_A8) v = d[y * stride + x];
            else {
                const uint32_t p = reinterpret_cast<const uint32_t*>(d + y * stride)[x];
                v = (((p >> 16) & 255) + ((p >> 8) & 255) + (p & 255)) / 3.0f;
            }
            im.pixels[static_cast<size_t>(y * im.w + x)] = v;
        }
    cairo_surface_destroy(s);
    return im;
}

class Reader {
public:
    static constexpr const char* kContext = "read.coordinates";

    Reader(const spotflow_host* host, const char* params_json) : host_(host) {
        const auto p = nlohmann::json::parse(params_json);
        dir_ = p.value("images", std::string());
        coords_path_ = p.value("coordinates", std::string());
        radius_ = p.value("radius_px", 5.0);
        if (dir_.empty()) throw bad("param 'images' (the image folder) is empty");
        if (coords_path_.empty()) throw bad("param 'coordinates' (coordinates.json) is empty");
        if (!(radius_ > 0)) throw bad("param 'radius_px' must be > 0");
    }

    spotflow_status pull(const spotflow_emitter* out) {
        if (done_) return SPOTFLOW_DONE;
        // Everything is read and checked before anything is emitted: bad
        // input leaves nothing partial behind.
        nlohmann::json coords;
        {
            std::ifstream f(coords_path_);
            if (!f) throw PluginError(SPOTFLOW_ERR_IO, "cannot read '" + coords_path_ + "'");
            try {
                coords = nlohmann::json::parse(f);
            } catch (const std::exception& e) {
                throw bad("'" + coords_path_ + "': malformed JSON: " + e.what());
            }
        }
        if (!coords.is_object()) throw bad("'" + coords_path_ + "': expected an object of image name -> list of [x, y]");
        if (!fs::is_directory(dir_)) throw PluginError(SPOTFLOW_ERR_IO, "image folder '" + dir_ + "' does not exist");
        std::map<std::string, std::vector<std::pair<double, double>>> entries; // sorted by name
        int64_t total = 0;
        for (const auto& [name, list] : coords.items()) {
            const std::string at = "'" + coords_path_ + "': entry \"" + name + "\"";
            if (!list.is_array()) throw bad(at + ": expected a list of particle centres");
            auto& pts = entries[name];
            for (size_t k = 0; k < list.size(); ++k) {
                const auto& c = list[k];
                double x, y;
                if (c.is_array() && c.size() >= 2 && c[0].is_number() && c[1].is_number()) x = c[0], y = c[1];
                else if (c.is_object() && c.contains("x") && c.contains("y") && c["x"].is_number() && c["y"].is_number()) x = c["x"], y = c["y"];
                else throw bad(at + ", centre " + std::to_string(k) + ": expected [x, y] or {\"x\": .., \"y\": ..}");
                if (!std::isfinite(x) || !std::isfinite(y)) throw bad(at + ", centre " + std::to_string(k) + ": not finite");
                pts.emplace_back(x, y);
            }
            total += static_cast<int64_t>(pts.size());
        }
        if (entries.empty() || total == 0)
            throw bad("'" + coords_path_ + "': no particle centres at all (an empty label set)");
        std::vector<Image> images;
        int64_t w = 0, h = 0;
        for (const auto& [name, pts] : entries) {
            const fs::path path = fs::path(dir_) / name;
            if (!fs::is_regular_file(path))
                throw bad("'" + coords_path_ + "': entry \"" + name + "\" names an image that is not in '" + dir_ + "'");
            std::string ext = path.extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            Image im;
            if (ext == ".tif" || ext == ".tiff") im = read_tiff(host_, path.string());
            else if (ext == ".png") im = read_png(path.string());
            else throw bad("image '" + path.string() + "': unsupported format '" + ext + "' (TIFF or PNG)");
            if (!images.empty() && (im.w != w || im.h != h))
                throw bad("image '" + path.string() + "' is " + std::to_string(im.w) + " x " + std::to_string(im.h) + " px, the others " +
                          std::to_string(w) + " x " + std::to_string(h) + " px");
            w = im.w;
            h = im.h;
            for (size_t k = 0; k < pts.size(); ++k) {
                const auto [x, y] = pts[k];
                if (x < -0.5 || y < -0.5 || x > static_cast<double>(w) - 0.5 || y > static_cast<double>(h) - 0.5)
                    throw bad("'" + coords_path_ + "': entry \"" + name + "\", centre " + std::to_string(k) + " (" + std::to_string(x) +
                              ", " + std::to_string(y) + ") lies outside the " + std::to_string(w) + " x " + std::to_string(h) + " px image");
            }
            images.push_back(std::move(im));
        }
        const int64_t n = static_cast<int64_t>(images.size());
        const size_t px = static_cast<size_t>(w * h);
        std::vector<float> pixels(static_cast<size_t>(n) * px);
        std::vector<int8_t> labels(pixels.size(), 0);
        spotflow::TableBuilder b;
        const auto c_frame = b.add_column("frame", spotflow::ColumnType::Int64);
        const auto c_x = b.add_column("x", spotflow::ColumnType::Float64);
        const auto c_y = b.add_column("y", spotflow::ColumnType::Float64);
        const auto c_name = b.add_column("image", spotflow::ColumnType::Utf8);
        int64_t i = 0;
        for (const auto& [name, pts] : entries) {
            std::copy(images[static_cast<size_t>(i)].pixels.begin(), images[static_cast<size_t>(i)].pixels.end(),
                      pixels.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(i) * px));
            for (const auto& [x, y] : pts) {
                sim::draw_disk<int8_t>(labels.data() + static_cast<size_t>(i) * px, w, h, x, y, radius_, 1);
                b.append_int(c_frame, i);
                b.append_double(c_x, x);
                b.append_double(c_y, y);
                b.append_string(c_name, name);
            }
            ++i;
        }
        const spotflow_stream_info info{0, n, n, 0, 0, 0, 0};
        auto tensor = [&](int32_t port, DLManagedTensor* t) {
            spotflow_packet pk{};
            pk.kind = SPOTFLOW_DATA_TENSOR;
            pk.info = info;
            pk.tensor = t;
            return out->emit(out, port, &pk);
        };
        if (auto st = tensor(0, spotflow::make_tensor<float>({n, h, w}, std::move(pixels))); st != SPOTFLOW_OK) return st;
        if (auto st = tensor(1, spotflow::make_tensor<int8_t>({n, h, w}, std::move(labels))); st != SPOTFLOW_OK) return st;
        spotflow_packet table{};
        table.kind = SPOTFLOW_DATA_TABLE;
        table.info = info;
        b.finish(&table.schema, &table.array);
        if (auto st = out->emit(out, 2, &table); st != SPOTFLOW_OK) return st;
        done_ = true;
        return SPOTFLOW_DONE;
    }

private:
    const spotflow_host* host_;
    std::string dir_, coords_path_;
    double radius_ = 5;
    bool done_ = false;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Reader>();

const spotflow_port_desc kOutputs[] = {
    {"images", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "The labelled images, N x H x W float32, in name order"},
    {"labels", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, 0, "N x H x W int8: 1 inside a disk of radius_px around each centre, 0 elsewhere"},
    {"coordinates", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL, "The centres: frame (= image index), x, y, image (name)"},
};

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

const spotflow_plugin_desc kDesc = {"read.coordinates", "1.0.0",
                                    "Reads an image folder and coordinates.json (seed 002) as images and disk label masks",
                                    "source", nullptr, 0, 3, kOutputs, kSchema, &kVtable, nullptr};

} // namespace read_coordinates

SPOTFLOW_EXPORT_PLUGINS(read_coordinates::kDesc);

// segment.unet: binary segmentation of whole images of any size with a
// U-Net (a segmentation weights file: train.unet's best_model.sfw or the
// shipped spheroid weights), through overlapping tiles blended with a
// smooth window (libs/nn segment.hpp), so the result does not depend on the
// tile grid. Per image: <stem>_prob.tif (float32), <stem>_mask.tif (uint8
// 0/255), a summary row (coverage, object count, mean confidence), and the
// probability map and mask as tensors.
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/library_dir.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "spotflow_imageset/imageset.hpp"
#include "spotflow_nn/segment.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_seg/seg.hpp"
#include "tiffio/image.hpp"
#include "schema.json.hpp"

namespace segment_unet {
namespace {

using spotflow::PluginError;
namespace nn = spotflow::nn;
namespace is = spotflow::imageset;
using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultWeights = "segment_unet_spheroids.sfw";

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Params {
    std::string weights, folder, summary_file;
    nn::TileOptions tiles;
    double threshold = -1;
    int64_t min_object_px = 20;
    bool write_files = true;
};

class Node {
public:
    static constexpr const char* kContext = "segment.unet";

    Node(const spotflow_host* host, const char* params_json) : host_(host) {
        p_ = spotflow::read_params(params_json, [](const nlohmann::json& j) {
            Params p;
            p.weights = j.at("weights");
            p.tiles.tile = j.at("tile_size");
            p.tiles.margin = j.at("margin");
            p.tiles.ramp = j.at("ramp");
            p.tiles.max_tile_pixels = j.at("max_tile_pixels");
            p.threshold = j.at("threshold");
            p.min_object_px = j.at("min_object_px");
            p.write_files = j.at("write_files");
            p.folder = j.at("folder");
            p.summary_file = j.at("summary_file");
            return p;
        });
        if (p_.weights.empty()) {
            const std::string dir = host->abi.minor >= 1 && host->plugin_dir ? host->plugin_dir(host) : spotflow::library_dir(&kDefaultWeights);
            p_.weights = dir + "/" + kDefaultWeights;
        }
        try {
            model_ = nn::load_seg_model(p_.weights);
        } catch (const std::exception& e) {
            throw PluginError(SPOTFLOW_ERR_IO, e.what());
        }
        if (p_.threshold < 0) p_.threshold = model_.network.threshold;
        nn::set_threads(std::max(1, host->threads(host)));
        if (!p_.summary_file.empty()) summary_path_ = spotflow::output_path(host, p_.summary_file);
        const int64_t rf = nn::receptive_radius(model_.network.unet);
        if (p_.tiles.margin >= 0 && p_.tiles.margin < rf)
            host->log(host, SPOTFLOW_LOG_WARNING,
                      fmt::format("segment.unet: margin {} px is below the U-Net's receptive radius {} px: the result depends on the tile grid",
                                  p_.tiles.margin, rf).c_str());
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter* out) {
        if (in.port == 0) {
            if (packet.kind != SPOTFLOW_DATA_TABLE) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'images' takes an image_set table");
            std::vector<is::Entry> entries;
            try {
                entries = is::from_table(spotflow::TableView(packet.schema, packet.array));
            } catch (const std::invalid_argument& e) {
                throw PluginError(SPOTFLOW_ERR_FORMAT, std::string("images table: ") + e.what());
            }
            for (const auto& e : entries) {
                tiffio::Image img = tiffio::read_image(host_, e.image);
                if (const auto s = segment(e.stem, e.index, img.pixels.data(), img.width, img.height, e.image, out)) return s;
            }
            return SPOTFLOW_OK;
        }
        // A movie: every frame is an image.
        if (packet.kind != SPOTFLOW_DATA_TENSOR || !packet.tensor)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'image' takes a tensor (T x H x W)");
        const DLTensor& t = packet.tensor->dl_tensor;
        if (t.ndim != 3 && t.ndim != 2)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'image' takes T x H x W or H x W, got " + spotflow::shape_name(t));
        const int64_t frames = t.ndim == 3 ? t.shape[0] : 1, h = t.shape[t.ndim - 2], w = t.shape[t.ndim - 1];
        std::vector<float> frame(static_cast<size_t>(h * w));
        for (int64_t f = 0; f < frames; ++f) {
            for (int64_t k = 0; k < h * w; ++k) frame[static_cast<size_t>(k)] = static_cast<float>(spotflow::element_as_double(t, f * h * w + k));
            const int64_t index = packet.info.frame_offset + f;
            if (const auto s = segment(fmt::format("image_{:04d}", index), index, frame.data(), w, h, fmt::format("frame {}", index), out))
                return s;
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        if (!summary_path_.empty()) csv_.save(summary_path_);
        auto b = std::move(table_);
        return spotflow::emit_table(out, 2, b.builder, spotflow::table_info());
    }

private:
    spotflow_status segment(const std::string& stem, int64_t index, const float* pixels, int64_t w, int64_t h,
                            const std::string& what, const spotflow_emitter* out) {
        const auto t0 = Clock::now();
        nn::TilePlan plan;
        try {
            plan = nn::plan_tiles(w, h, model_.network.unet, p_.tiles);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("image '{}': {}", what, e.what()));
        }
        const int64_t n = w * h;
        const nn::Normalisation z = nn::image_normalisation(pixels, n);
        std::vector<float> x = nn::normalised(pixels, n, z);
        std::vector<float> prob(static_cast<size_t>(n));
        if (!nn::predict_tiled(model_.net, x.data(), w, h, plan, prob.data(), [&] { return host_->is_cancelled(host_) != 0; }))
            return SPOTFLOW_ERR_CANCELLED;
        std::vector<float>().swap(x);
        std::vector<uint8_t> mask(static_cast<size_t>(n));
        int64_t fg = 0;
        double conf = 0;
        for (int64_t k = 0; k < n; ++k) {
            const bool on = prob[static_cast<size_t>(k)] >= p_.threshold;
            mask[static_cast<size_t>(k)] = on ? 255 : 0;
            if (on) {
                ++fg;
                conf += prob[static_cast<size_t>(k)];
            }
        }
        const auto comps = spotflow::seg::label_components(mask.data(), static_cast<int32_t>(w), static_cast<int32_t>(h));
        int64_t objects = 0;
        for (const auto& b : spotflow::seg::blobs(comps)) objects += b.area >= p_.min_object_px;
        std::string prob_name, mask_name;
        if (p_.write_files) {
            const std::string dir = p_.folder.empty() ? "" : p_.folder + "/";
            prob_name = dir + stem + "_prob.tif";
            mask_name = dir + stem + "_mask.tif";
            tiffio::write_image_f32(host_, spotflow::output_path(host_, prob_name), w, h, prob.data());
            tiffio::write_image_u8(host_, spotflow::output_path(host_, mask_name), w, h, mask.data());
        }
        const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        const double coverage = static_cast<double>(fg) / static_cast<double>(n);
        const double mean_conf = fg ? conf / static_cast<double>(fg) : NAN;
        table_.add(index, stem, w, h, coverage, objects, mean_conf, prob_name, mask_name, plan.tiles(), seconds);
        csv_.row(index, stem, w, h, coverage, objects, mean_conf, prob_name, mask_name, plan.tiles(), seconds);
        host_->log(host_, SPOTFLOW_LOG_INFO,
                   fmt::format("segment.unet: {} ({} x {}, {} tiles): coverage {:.2f} %, {} objects, mean confidence {:.3f}, {:.2f} s", stem,
                               w, h, plan.tiles(), 100 * coverage, objects, mean_conf, seconds).c_str());
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TENSOR;
        p.info.frame_offset = index;
        p.info.frame_count = 1;
        p.info.total_frames = -1;
        std::vector<int32_t> m32(mask.begin(), mask.end());
        for (int32_t& v : m32) v = v ? 1 : 0;
        p.tensor = spotflow::make_tensor<float>({1, h, w}, std::move(prob));
        if (const auto s = out->emit(out, 0, &p)) return s;
        spotflow_packet q{};
        q.kind = SPOTFLOW_DATA_TENSOR;
        q.info = p.info;
        q.tensor = spotflow::make_tensor<int32_t>({1, h, w}, std::move(m32));
        return out->emit(out, 1, &q);
    }

    // The summary, as a table and as CSV.
    struct Table {
        spotflow::TableBuilder builder;
        size_t c[11];
        Table() {
            const char* names[] = {"index", "stem", "width", "height", "coverage", "object_count", "mean_confidence",
                                   "prob_file", "mask_file", "tiles", "seconds"};
            const spotflow::ColumnType types[] = {spotflow::ColumnType::Int64, spotflow::ColumnType::Utf8, spotflow::ColumnType::Int64,
                                                  spotflow::ColumnType::Int64, spotflow::ColumnType::Float64, spotflow::ColumnType::Int64,
                                                  spotflow::ColumnType::Float64, spotflow::ColumnType::Utf8, spotflow::ColumnType::Utf8,
                                                  spotflow::ColumnType::Int64, spotflow::ColumnType::Float64};
            for (int i = 0; i < 11; ++i) c[i] = builder.add_column(names[i], types[i]);
        }
        void add(int64_t index, const std::string& stem, int64_t w, int64_t h, double cov, int64_t obj, double conf,
                 const std::string& pf, const std::string& mf, int64_t tiles, double s) {
            builder.append_int(c[0], index);
            builder.append_string(c[1], stem);
            builder.append_int(c[2], w);
            builder.append_int(c[3], h);
            builder.append_double(c[4], cov);
            builder.append_int(c[5], obj);
            if (std::isnan(conf)) builder.append_null(c[6]);
            else builder.append_double(c[6], conf);
            builder.append_string(c[7], pf);
            builder.append_string(c[8], mf);
            builder.append_int(c[9], tiles);
            builder.append_double(c[10], s);
        }
    };
    struct Csv {
        std::string text = "index,stem,width,height,coverage,object_count,mean_confidence,prob_file,mask_file,tiles,seconds\n";
        void row(int64_t index, const std::string& stem, int64_t w, int64_t h, double cov, int64_t obj, double conf,
                 const std::string& pf, const std::string& mf, int64_t tiles, double s) {
            text += fmt::format("{},", index);
            spotflow_csv::append_field(text, stem);
            text += fmt::format(",{},{},{},{},{},", w, h, cov, obj, std::isnan(conf) ? std::string() : fmt::format("{}", conf));
            spotflow_csv::append_field(text, pf);
            text += ',';
            spotflow_csv::append_field(text, mf);
            text += fmt::format(",{},{:.3f}\n", tiles, s);
        }
        void save(const std::string& path) const { spotflow_csv::write_file(path, text); }
    };

    const spotflow_host* host_;
    Params p_;
    nn::SegModel model_;
    std::string summary_path_;
    Table table_;
    Csv csv_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Node>();
const spotflow_port_desc kInputs[] = {
    {"images", is::kTableType, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL, "image set (read.image_set, sim.spheroids): each image file segmented"},
    {"image", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL, "or images as tensors: each frame segmented (stem image_<frame>)"}};
const spotflow_port_desc kOutputs[] = {
    {"probability", SPOTFLOW_TYPE_PROBABILITY, SPOTFLOW_DATA_TENSOR, 0, "per image: float32 1 x H x W foreground probability, frame_offset = image index"},
    {"mask", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, 0, "per image: int32 1 x H x W, 1 = foreground (probability >= threshold)"},
    {"summary", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "per image: index, stem, width, height, coverage, object_count, mean_confidence, prob_file, mask_file, tiles, seconds"}};
const spotflow_plugin_desc kDesc = {"segment.unet", "1.0.0",
                                    "U-Net segmentation of whole images of any size through blended tiles: probability map and mask per image",
                                    "segmenter", kInputs, 2, 3, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace segment_unet

SPOTFLOW_EXPORT_PLUGINS(segment_unet::kDesc);

// read.image_set: images (and their masks) from a manifest CSV or a folder,
// validated before anything is emitted (every file exists, every mask has
// its image's size and the expected kind), the seed's validate_dataset CSVs
// (all.csv, train.csv, val.csv, test.csv) written, and the set emitted as an
// image_set table; optionally each image and truth mask as tensors.
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "spotflow_imageset/imageset.hpp"
#include "tiffio/image.hpp"
#include "schema.json.hpp"

namespace read_image_set {
namespace {

using spotflow::PluginError;
namespace is = spotflow::imageset;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

class Source {
public:
    static constexpr const char* kContext = "read.image_set";

    Source(const spotflow_host* host, const char* params_json) : host_(host) {
        std::string path, splits;
        double vf = 0, tf = 0;
        int64_t seed = -1, min_side = 16;
        bool require = false;
        spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            path = j.at("path");
            kind_ = is::mask_kind_from(j.at("mask_kind"));
            require = j.at("require_masks");
            min_side = j.at("min_size_px");
            vf = j.at("val_fraction");
            tf = j.at("test_fraction");
            seed = j.at("seed");
            splits = j.at("splits_folder");
            emit_images_ = j.at("emit_images");
            emit_masks_ = j.at("emit_masks");
            return 0;
        });
        if (vf + tf > 1) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "params val_fraction + test_fraction exceed 1");
        std::error_code ec;
        entries_ = std::filesystem::is_directory(path, ec) ? is::scan_folder(path, require) : is::read_manifest(path);
        if (require)
            for (const auto& e : entries_)
                if (e.mask.empty()) throw PluginError(SPOTFLOW_ERR_FORMAT, fmt::format("image '{}' has no mask (require_masks)", e.image));
        // Everything checked before anything is emitted or written.
        is::validate(host, entries_, kind_, min_side);
        is::assign_splits(entries_, vf, tf, seed >= 0 ? static_cast<uint64_t>(seed) : host->seed(host) >> 1);
        if (!splits.empty()) {
            for (const char* s : {"all", "train", "val", "test"}) {
                const std::string split = std::string(s) == "all" ? "" : s;
                bool any = split.empty();
                for (const auto& e : entries_) any = any || e.split == split;
                if (any) spotflow_csv::write_file(spotflow::output_path(host, splits + "/" + s + ".csv"), is::manifest_csv(entries_, split));
            }
        }
        int64_t masks = 0;
        for (const auto& e : entries_) masks += !e.mask.empty();
        host->log(host, SPOTFLOW_LOG_INFO, fmt::format("read.image_set: {} images, {} with masks", entries_.size(), masks).c_str());
    }

    spotflow_status pull(const spotflow_emitter* out) {
        const auto n = static_cast<int64_t>(entries_.size());
        if (!table_sent_) {
            table_sent_ = true;
            auto b = is::to_table(entries_);
            spotflow_stream_info info = spotflow::table_info();
            info.total_frames = n;
            return spotflow::emit_table(out, 0, b, info);
        }
        if ((!emit_images_ && !emit_masks_) || next_ >= n) return SPOTFLOW_DONE;
        const is::Entry& e = entries_[static_cast<size_t>(next_++)];
        spotflow_packet p{};
        p.kind = SPOTFLOW_DATA_TENSOR;
        p.info.frame_offset = e.index;
        p.info.frame_count = 1;
        p.info.total_frames = n;
        if (emit_images_) {
            tiffio::Image img = tiffio::read_image(host_, e.image);
            p.tensor = spotflow::make_tensor<float>({1, img.height, img.width}, std::move(img.pixels));
            if (const spotflow_status s = out->emit(out, 1, &p)) return s;
        }
        if (emit_masks_ && !e.mask.empty()) {
            is::Mask m = is::read_mask(host_, e.mask, kind_, e.width, e.height);
            spotflow_packet q{};
            q.kind = SPOTFLOW_DATA_TENSOR;
            q.info = p.info;
            q.tensor = spotflow::make_tensor<int32_t>({1, m.height, m.width}, std::move(m.labels));
            if (const spotflow_status s = out->emit(out, 2, &q)) return s;
        }
        return SPOTFLOW_OK;
    }

private:
    const spotflow_host* host_;
    is::MaskKind kind_ = is::MaskKind::Auto;
    std::vector<is::Entry> entries_;
    bool emit_images_ = false, emit_masks_ = false, table_sent_ = false;
    int64_t next_ = 0;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Source>();
const spotflow_port_desc kOutputs[] = {
    {"images", is::kTableType, SPOTFLOW_DATA_TABLE, 0, "index, stem, image, mask, split, width, height"},
    {"image", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "per image (emit_images): float32 1 x H x W, frame_offset = index"},
    {"truth", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, 0, "per image with a mask (emit_masks): int32 labels 1 x H x W, frame_offset = index"}};
const spotflow_plugin_desc kDesc = {"read.image_set", "1.0.0",
                                    "Images and masks from a manifest CSV or images/ + masks/ folders, validated, with all.csv / split CSVs",
                                    "source", nullptr, 0, 3, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace read_image_set

SPOTFLOW_EXPORT_PLUGINS(read_image_set::kDesc);

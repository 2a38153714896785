// sim.spheroids: a set of simulated spheroid images (libs/sim's
// generate_spheroids) written as the seed's dataset layout (images/,
// masks/<stem>_mask.tif, all.csv and split CSVs) plus the per-spheroid
// truth, emitted as an image_set table and, if asked, the truth masks.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "spotflow_imageset/imageset.hpp"
#include "spotflow_sim/spheroids.hpp"
#include "tiffio/image.hpp"
#include "schema.json.hpp"

namespace sim_spheroids {
namespace {

using spotflow::PluginError;
namespace is = spotflow::imageset;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Params {
    int64_t count, first_index;
    sim::SpheroidParams gen;
    uint64_t seed;
    std::string prefix, folder, mask_format;
    double val_fraction, test_fraction;
    bool emit_masks;
};

class Source {
public:
    static constexpr const char* kContext = "sim.spheroids";

    Source(const spotflow_host* host, const char* params_json) : host_(host) {
        p_ = spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            Params p;
            p.count = j.at("count");
            p.first_index = j.at("first_index");
            nlohmann::json g = j.at("spheroids");
            g["width"] = j.at("width");
            g["height"] = j.at("height");
            try {
                p.gen = sim::SpheroidParams::from_json(g);
            } catch (const std::invalid_argument& e) {
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("param 'spheroids': ") + e.what());
            }
            const int64_t s = j.at("seed");
            p.seed = s >= 0 ? static_cast<uint64_t>(s) : host->seed(host) >> 1;
            p.prefix = j.at("prefix");
            p.folder = j.at("folder");
            p.mask_format = j.at("mask_format");
            p.val_fraction = j.at("val_fraction");
            p.test_fraction = j.at("test_fraction");
            p.emit_masks = j.at("emit_masks");
            if (p.val_fraction + p.test_fraction > 1)
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "params val_fraction + test_fraction exceed 1");
            return p;
        });
        const auto rel = [&](const std::string& name) { return p_.folder.empty() ? name : p_.folder + "/" + name; };
        // Every file claimed now, so a clash fails before any work.
        for (int64_t i = 0; i < p_.count; ++i) {
            is::Entry e;
            e.index = i;
            e.stem = fmt::format("{}_{:03d}", p_.prefix, p_.first_index + i);
            e.width = p_.gen.width;
            e.height = p_.gen.height;
            final_.push_back(e);
            final_.back().image = "images/" + e.stem + ".tif";
            final_.back().mask = "masks/" + e.stem + "_mask.tif";
            e.image = spotflow::output_path(host, rel(final_.back().image));
            e.mask = spotflow::output_path(host, rel(final_.back().mask));
            entries_.push_back(e);
        }
        is::assign_splits(entries_, p_.val_fraction, p_.test_fraction, p_.seed ^ 0x5b1175);
        for (size_t i = 0; i < entries_.size(); ++i) final_[i].split = entries_[i].split;
        for (const char* s : {"all", "train", "val", "test"}) {
            const bool any = std::string(s) == "all" ||
                             std::any_of(entries_.begin(), entries_.end(), [&](const is::Entry& e) { return e.split == s; });
            if (any) csv_paths_.emplace_back(s, spotflow::output_path(host, rel(std::string(s) + ".csv")));
        }
        truth_path_ = spotflow::output_path(host, rel("spheroids.csv"));
        json_path_ = spotflow::output_path(host, rel("dataset.json"));
    }

    spotflow_status pull(const spotflow_emitter* out) {
        if (!generated_) {
            generate();
            generated_ = true;
            auto b = is::to_table(entries_);
            spotflow_stream_info info = spotflow::table_info();
            info.total_frames = p_.count;
            return spotflow::emit_table(out, 0, b, info);
        }
        if (!p_.emit_masks || next_ >= p_.count) return SPOTFLOW_DONE;
        const int64_t i = next_++;
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TENSOR;
        packet.info.frame_offset = i;
        packet.info.frame_count = 1;
        packet.info.total_frames = p_.count;
        packet.tensor = spotflow::make_tensor<int32_t>({1, p_.gen.height, p_.gen.width}, std::move(labels_[static_cast<size_t>(i)]));
        return out->emit(out, 1, &packet);
    }

private:
    void generate() {
        const size_t n = static_cast<size_t>(p_.count);
        std::vector<std::vector<sim::Spheroid>> spheroids(n);
        std::vector<nlohmann::json> drawn(n);
        std::vector<double> coverage(n);
        if (p_.emit_masks) labels_.resize(n);
        tbb::task_arena arena(std::max(1, host_->threads(host_)));
        arena.execute([&] {
            tbb::parallel_for(size_t{0}, n, [&](size_t i) {
                if (host_->is_cancelled(host_)) return;
                sim::SpheroidImage img = sim::generate_spheroids(p_.gen, p_.seed, static_cast<uint64_t>(p_.first_index) + i);
                const is::Entry& e = entries_[i];
                tiffio::write_image_u16(host_, e.image, img.width, img.height, img.image.data());
                if (p_.mask_format == "labels") {
                    std::vector<uint16_t> m(img.labels.size());
                    for (size_t k = 0; k < m.size(); ++k) m[k] = static_cast<uint16_t>(std::min(img.labels[k], 65535));
                    tiffio::write_image_u16(host_, e.mask, img.width, img.height, m.data());
                } else {
                    std::vector<uint8_t> m(img.labels.size());
                    for (size_t k = 0; k < m.size(); ++k) m[k] = img.labels[k] > 0 ? 255 : 0;
                    tiffio::write_image_u8(host_, e.mask, img.width, img.height, m.data());
                }
                spheroids[i] = img.spheroids;
                drawn[i] = img.drawn;
                coverage[i] = img.coverage();
                if (p_.emit_masks) labels_[i] = std::move(img.labels);
            });
        });
        if (host_->is_cancelled(host_)) throw PluginError(SPOTFLOW_ERR_CANCELLED, "cancelled");
        for (const auto& [split, path] : csv_paths_) spotflow_csv::write_file(path, is::manifest_csv(final_, split == "all" ? "" : split));
        spotflow_csv::CsvFile t(truth_path_);
        for (const char* h : {"image", "label", "x", "y", "radius_px", "area_px"}) t.field(h);
        t.end_row();
        nlohmann::json images = nlohmann::json::array();
        for (size_t i = 0; i < n; ++i) {
            for (size_t k = 0; k < spheroids[i].size(); ++k) {
                const auto& s = spheroids[i][k];
                t.field(entries_[i].stem).field(static_cast<int64_t>(k + 1)).field(s.x).field(s.y).field(s.radius).field(s.area_px);
                t.end_row();
            }
            images.push_back({{"stem", entries_[i].stem}, {"split", entries_[i].split}, {"spheroids", spheroids[i].size()},
                              {"coverage", coverage[i]}, {"drawn", drawn[i]}});
        }
        t.save();
        const nlohmann::json ds = {{"generator", "sim.spheroids 1.0.0 (libs/sim generate_spheroids)"}, {"seed", p_.seed},
                                   {"first_index", p_.first_index}, {"params", p_.gen.to_json()}, {"mask_format", p_.mask_format},
                                   {"images", images}};
        spotflow_csv::write_file(json_path_, ds.dump(2) + "\n");
        double mean_cov = 0;
        for (double c : coverage) mean_cov += c / static_cast<double>(n);
        host_->log(host_, SPOTFLOW_LOG_INFO, fmt::format("sim.spheroids: {} images {} x {}, mean coverage {:.2f} %", n, p_.gen.width,
                                                         p_.gen.height, 100 * mean_cov).c_str());
    }

    const spotflow_host* host_;
    Params p_;
    std::vector<is::Entry> entries_, final_;
    std::vector<std::pair<std::string, std::string>> csv_paths_;
    std::string truth_path_, json_path_;
    std::vector<std::vector<int32_t>> labels_;
    bool generated_ = false;
    int64_t next_ = 0;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Source>();
const spotflow_port_desc kOutputs[] = {
    {"images", is::kTableType, SPOTFLOW_DATA_TABLE, 0, "index, stem, image, mask, split, width, height (the written files)"},
    {"truth", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, 0, "per image (emit_masks): int32 instance labels 1 x H x W, frame_offset = index"}};
const spotflow_plugin_desc kDesc = {"sim.spheroids", "1.0.0",
                                    "Simulated spheroid images (irregular textured blobs, uneven illumination, noise) with instance masks, as an image set",
                                    "source", nullptr, 0, 2, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace sim_spheroids

SPOTFLOW_EXPORT_PLUGINS(sim_spheroids::kDesc);

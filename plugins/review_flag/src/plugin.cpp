// review.flag: the review step of seed 003's data flywheel. Scores every
// probability map by its uncertainty - the mean binary entropy of the
// probabilities in and around the objects (the pixels with p >= low,
// dilated by band_px) - ranks the images, worst first, and writes the worst
// top_n stems to needs_correction.txt (the seed's review_predictions
// --output-flagged) with every image's scores in review_scores.csv.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "schema.json.hpp"

namespace review_flag {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Score {
    int64_t index = 0;
    double entropy = 0, uncertain_fraction = 0, coverage = 0;
    int64_t region_px = 0, pixels = 0;
};

// A square dilation of `on` (w x h) by r px: two 1-D sliding maxima.
std::vector<uint8_t> dilate(const std::vector<uint8_t>& on, int64_t w, int64_t h, int64_t r) {
    if (r == 0) return on;
    std::vector<uint8_t> t(on.size()), out(on.size());
    for (int64_t y = 0; y < h; ++y) {
        int64_t last = -(1 << 30); // last "on" column seen
        std::vector<int64_t> next(static_cast<size_t>(w), 1 << 30);
        for (int64_t x = w - 1, n = 1 << 30; x >= 0; --x) {
            if (on[static_cast<size_t>(y * w + x)]) n = x;
            next[static_cast<size_t>(x)] = n;
        }
        for (int64_t x = 0; x < w; ++x) {
            if (on[static_cast<size_t>(y * w + x)]) last = x;
            t[static_cast<size_t>(y * w + x)] = (x - last <= r) || (next[static_cast<size_t>(x)] - x <= r);
        }
    }
    for (int64_t x = 0; x < w; ++x) {
        int64_t last = -(1 << 30);
        std::vector<int64_t> next(static_cast<size_t>(h), 1 << 30);
        for (int64_t y = h - 1, n = 1 << 30; y >= 0; --y) {
            if (t[static_cast<size_t>(y * w + x)]) n = y;
            next[static_cast<size_t>(y)] = n;
        }
        for (int64_t y = 0; y < h; ++y) {
            if (t[static_cast<size_t>(y * w + x)]) last = y;
            out[static_cast<size_t>(y * w + x)] = (y - last <= r) || (next[static_cast<size_t>(y)] - y <= r);
        }
    }
    return out;
}

class Node {
public:
    static constexpr const char* kContext = "review.flag";

    Node(const spotflow_host* host, const char* params_json) : host_(host) {
        std::string file, scores;
        spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            top_n_ = j.at("top_n");
            low_ = j.at("low");
            band_ = j.at("band_px");
            uncertain_ = j.at("uncertain");
            file = j.at("file");
            scores = j.at("scores_file");
            return 0;
        });
        file_ = spotflow::output_path(host, file);
        if (!scores.empty()) scores_ = spotflow::output_path(host, scores);
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter*) {
        if (in.port == 1) {
            if (packet.kind != SPOTFLOW_DATA_TABLE) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'summary' takes a table");
            const spotflow::TableView t(packet.schema, packet.array);
            try {
                const int64_t ci = t.require("index"), cs = t.require("stem");
                for (int64_t r = 0; r < t.rows(); ++r) stems_[t.get_int(ci, r)] = std::string(t.get_string(cs, r));
            } catch (const std::invalid_argument& e) {
                throw PluginError(SPOTFLOW_ERR_FORMAT, std::string("summary table: ") + e.what());
            }
            return SPOTFLOW_OK;
        }
        if (packet.kind != SPOTFLOW_DATA_TENSOR || !packet.tensor) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'probability' takes a tensor");
        const DLTensor& t = packet.tensor->dl_tensor;
        if (t.ndim != 3 && t.ndim != 2) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "'probability' takes T x H x W, got " + spotflow::shape_name(t));
        const int64_t frames = t.ndim == 3 ? t.shape[0] : 1, h = t.shape[t.ndim - 2], w = t.shape[t.ndim - 1], n = w * h;
        std::vector<float> p(static_cast<size_t>(n));
        for (int64_t f = 0; f < frames; ++f) {
            const int64_t index = packet.info.frame_offset + f;
            std::vector<uint8_t> on(static_cast<size_t>(n));
            int64_t fg = 0;
            for (int64_t k = 0; k < n; ++k) {
                const double v = spotflow::element_as_double(t, f * n + k);
                if (!(v >= 0 && v <= 1))
                    throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("image {}: probability {} at pixel ({}, {}) is outside [0, 1]", index, v, k % w, k / w));
                p[static_cast<size_t>(k)] = static_cast<float>(v);
                on[static_cast<size_t>(k)] = v >= low_;
                fg += v >= 0.5;
            }
            const std::vector<uint8_t> region = dilate(on, w, h, band_);
            Score s;
            s.index = index;
            s.pixels = n;
            s.coverage = static_cast<double>(fg) / static_cast<double>(n);
            double hsum = 0;
            int64_t unc = 0;
            for (int64_t k = 0; k < n; ++k) {
                if (!region[static_cast<size_t>(k)]) continue;
                const double q = p[static_cast<size_t>(k)];
                ++s.region_px;
                if (q > 0 && q < 1) hsum += -(q * std::log2(q) + (1 - q) * std::log2(1 - q));
                unc += q > uncertain_ && q < 1 - uncertain_;
            }
            s.entropy = s.region_px ? hsum / static_cast<double>(s.region_px) : 0;
            s.uncertain_fraction = s.region_px ? static_cast<double>(unc) / static_cast<double>(s.region_px) : 0;
            scores_list_.push_back(s);
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        if (scores_list_.empty()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no probability maps to review");
        std::stable_sort(scores_list_.begin(), scores_list_.end(), [](const Score& a, const Score& b) { return a.entropy > b.entropy; });
        const auto stem = [&](int64_t i) {
            const auto it = stems_.find(i);
            return it != stems_.end() ? it->second : fmt::format("image_{:04d}", i);
        };
        std::string flagged, csv = "rank,index,stem,mean_entropy_bits,uncertain_fraction,region_px,coverage,flagged\n";
        spotflow::TableBuilder b;
        const auto c_rank = b.add_column("rank", spotflow::ColumnType::Int64), c_index = b.add_column("index", spotflow::ColumnType::Int64),
                   c_stem = b.add_column("stem", spotflow::ColumnType::Utf8), c_h = b.add_column("mean_entropy_bits", spotflow::ColumnType::Float64),
                   c_u = b.add_column("uncertain_fraction", spotflow::ColumnType::Float64), c_r = b.add_column("region_px", spotflow::ColumnType::Int64),
                   c_c = b.add_column("coverage", spotflow::ColumnType::Float64), c_f = b.add_column("flagged", spotflow::ColumnType::Int64);
        for (size_t r = 0; r < scores_list_.size(); ++r) {
            const Score& s = scores_list_[r];
            const bool flag = static_cast<int64_t>(r) < top_n_;
            if (flag) flagged += stem(s.index) + "\n";
            csv += fmt::format("{},{},", r + 1, s.index);
            spotflow_csv::append_field(csv, stem(s.index));
            csv += fmt::format(",{},{},{},{},{}\n", s.entropy, s.uncertain_fraction, s.region_px, s.coverage, flag ? 1 : 0);
            b.append_int(c_rank, static_cast<int64_t>(r + 1));
            b.append_int(c_index, s.index);
            b.append_string(c_stem, stem(s.index));
            b.append_double(c_h, s.entropy);
            b.append_double(c_u, s.uncertain_fraction);
            b.append_int(c_r, s.region_px);
            b.append_double(c_c, s.coverage);
            b.append_int(c_f, flag ? 1 : 0);
        }
        spotflow_csv::write_file(file_, flagged);
        if (!scores_.empty()) spotflow_csv::write_file(scores_, csv);
        host_->log(host_, SPOTFLOW_LOG_INFO, fmt::format("review.flag: {} images ranked, {} flagged for correction", scores_list_.size(),
                                                         std::min<int64_t>(top_n_, static_cast<int64_t>(scores_list_.size()))).c_str());
        return spotflow::emit_table(out, 0, b, spotflow::table_info());
    }

private:
    const spotflow_host* host_;
    int64_t top_n_ = 5, band_ = 5;
    double low_ = 0.1, uncertain_ = 0.1;
    std::string file_, scores_;
    std::vector<Score> scores_list_;
    std::map<int64_t, std::string> stems_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Node>();
const spotflow_port_desc kInputs[] = {
    {"probability", SPOTFLOW_TYPE_PROBABILITY, SPOTFLOW_DATA_TENSOR, 0, "per image: T x H x W foreground probability (segment.unet), frame index = image"},
    {"summary", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM, "segment.unet's summary: index -> stem"}};
const spotflow_port_desc kOutputs[] = {
    {"ranking", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "rank, index, stem, mean_entropy_bits, uncertain_fraction, region_px, coverage, flagged"}};
const spotflow_plugin_desc kDesc = {"review.flag", "1.0.0",
                                    "Ranks segmentations by uncertainty (mean entropy in and around objects) and writes needs_correction.txt",
                                    "filter", kInputs, 2, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace review_flag

SPOTFLOW_EXPORT_PLUGINS(review_flag::kDesc);

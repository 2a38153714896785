// eval.segmentation: scores probability maps (and optionally their masks)
// against truth masks, image by image as the pairs arrive (matched by frame
// index) and pooled over all images: pixel precision, recall, F1, IoU,
// Dice; exact ROC AUC; instance AP at IoU thresholds (0.5, 0.75, 0.9) by
// matching connected components; particle precision, recall and F1 by
// matching component centres. All of it through libs/seg (definitions and
// sources in docs/metrics.md).
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
#include "spotflow_seg/seg.hpp"
#include "schema.json.hpp"

namespace eval_segmentation {
namespace {

using spotflow::PluginError;
namespace sg = spotflow::seg;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Frame {
    int64_t w = 0, h = 0;
    std::vector<float> prob;
    std::vector<int32_t> truth, mask;
    bool has_prob = false, has_truth = false, has_mask = false;
};

struct Row {
    int64_t image = -1; // -1: overall
    sg::PixelScores px;
    double auc = NAN, coverage_pred = 0, coverage_true = 0;
    std::vector<sg::InstanceMatch> inst;
    sg::PointMatch particles;
    int64_t n_pred = 0, n_true = 0;
};

std::string ap_name(double t) { return fmt::format("ap_{:02d}", static_cast<int>(std::lround(t * 100))); }

class Node {
public:
    static constexpr const char* kContext = "eval.segmentation";

    Node(const spotflow_host* host, const char* params_json) : host_(host) {
        std::string file, summary;
        spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            threshold_ = j.at("threshold");
            use_mask_ = j.at("mask_source") == "input";
            thresholds_ = j.at("iou_thresholds").get<std::vector<double>>();
            radius_ = j.at("match_radius_px");
            min_area_ = j.at("min_object_px");
            conn_ = j.at("connectivity").get<int>() == 4 ? sg::Connectivity::Four : sg::Connectivity::Eight;
            file = j.at("file");
            summary = j.at("summary_file");
            return 0;
        });
        if (!file.empty()) file_ = spotflow::output_path(host, file);
        if (!summary.empty()) summary_ = spotflow::output_path(host, summary);
        overall_inst_.resize(thresholds_.size());
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter* out) {
        static const char* names[] = {"probability", "truth", "mask"};
        if (packet.kind != SPOTFLOW_DATA_TENSOR || !packet.tensor)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("'{}' takes a tensor", names[in.port]));
        const DLTensor& t = packet.tensor->dl_tensor;
        if (t.ndim != 3 && t.ndim != 2)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("'{}' takes T x H x W, got {}", names[in.port], spotflow::shape_name(t)));
        const int64_t frames = t.ndim == 3 ? t.shape[0] : 1, h = t.shape[t.ndim - 2], w = t.shape[t.ndim - 1];
        for (int64_t f = 0; f < frames; ++f) {
            const int64_t index = packet.info.frame_offset + f;
            Frame& fr = pending_[index];
            if (fr.w && (fr.w != w || fr.h != h))
                throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("image {}: '{}' is {} x {} px but the other input {} x {}", index,
                                                                             names[in.port], w, h, fr.w, fr.h));
            fr.w = w;
            fr.h = h;
            const int64_t n = w * h, base = f * n;
            if (in.port == 0) {
                fr.prob.resize(static_cast<size_t>(n));
                for (int64_t k = 0; k < n; ++k) {
                    const double v = spotflow::element_as_double(t, base + k);
                    if (!(v >= 0 && v <= 1))
                        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("image {}: probability {} at pixel ({}, {}) is outside [0, 1]", index, v, k % w, k / w));
                    fr.prob[static_cast<size_t>(k)] = static_cast<float>(v);
                }
                fr.has_prob = true;
            } else {
                auto& dst = in.port == 1 ? fr.truth : fr.mask;
                dst.resize(static_cast<size_t>(n));
                for (int64_t k = 0; k < n; ++k) {
                    const double v = spotflow::element_as_double(t, base + k);
                    if (v < -1 || v != std::floor(v))
                        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, fmt::format("image {}: '{}' value {} at pixel ({}, {}) is not a label (0, k > 0, -1 ignore)", index,
                                                                                     names[in.port], v, k % w, k / w));
                    dst[static_cast<size_t>(k)] = static_cast<int32_t>(v);
                }
                (in.port == 1 ? fr.has_truth : fr.has_mask) = true;
            }
            if (fr.has_prob && fr.has_truth && (!use_mask_ || fr.has_mask)) {
                score(index, fr);
                pending_.erase(index);
            }
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        for (const auto& [index, fr] : pending_)
            host_->log(host_, SPOTFLOW_LOG_WARNING,
                       fmt::format("eval.segmentation: image {} has {} but no {}: not scored", index,
                                   fr.has_prob ? "a probability map" : "a truth mask", fr.has_prob ? "truth mask" : "probability map").c_str());
        if (rows_.empty()) throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "no image had both a probability map and a truth mask");
        Row all;
        all.px = sg::scores(overall_);
        all.auc = auc_.auc();
        all.coverage_pred = static_cast<double>(overall_.tp + overall_.fp) / static_cast<double>(overall_.valid());
        all.coverage_true = static_cast<double>(overall_.tp + overall_.fn) / static_cast<double>(overall_.valid());
        for (size_t i = 0; i < thresholds_.size(); ++i) {
            sg::InstanceMatch m = overall_inst_[i];
            m.threshold = thresholds_[i];
            const auto r = [](double a, double b) { return b > 0 ? a / b : 0.0; };
            m.precision = r(static_cast<double>(m.tp), static_cast<double>(m.tp + m.fp));
            m.recall = r(static_cast<double>(m.tp), static_cast<double>(m.tp + m.fn));
            m.f1 = r(2.0 * static_cast<double>(m.tp), static_cast<double>(2 * m.tp + m.fp + m.fn));
            m.ap = m.tp + m.fp + m.fn > 0 ? static_cast<double>(m.tp) / static_cast<double>(m.tp + m.fp + m.fn) : NAN;
            all.inst.push_back(m);
        }
        all.particles = sg::match_points(pred_pts_, true_pts_, radius_);
        all.n_pred = static_cast<int64_t>(pred_pts_.x.size());
        all.n_true = static_cast<int64_t>(true_pts_.x.size());
        rows_.push_back(all);
        // The table and the files.
        spotflow::TableBuilder b;
        std::vector<std::string> cols = {"scope", "image", "n_valid", "precision", "recall", "f1", "iou", "dice", "auc", "coverage_pred", "coverage_true",
                                         "n_pred_objects", "n_true_objects"};
        for (double t : thresholds_) cols.push_back(ap_name(t));
        for (const char* c : {"particle_tp", "particle_fp", "particle_fn", "particle_precision", "particle_recall", "particle_f1"}) cols.push_back(c);
        std::vector<size_t> ci;
        for (size_t i = 0; i < cols.size(); ++i) {
            static const std::vector<std::string> ints = {"image", "n_valid", "n_pred_objects", "n_true_objects", "particle_tp", "particle_fp", "particle_fn"};
            const bool str = i == 0, integer = std::find(ints.begin(), ints.end(), cols[i]) != ints.end();
            ci.push_back(b.add_column(cols[i], str ? spotflow::ColumnType::Utf8 : integer ? spotflow::ColumnType::Int64 : spotflow::ColumnType::Float64));
        }
        std::string csv;
        for (size_t i = 0; i < cols.size(); ++i) csv += (i ? "," : "") + cols[i];
        csv += "\n";
        for (const Row& r : rows_) {
            size_t k = 0;
            std::vector<std::string> fields;
            const auto d = [&](double v) {
                if (std::isnan(v)) b.append_null(ci[k++]), fields.push_back("");
                else b.append_double(ci[k++], v), fields.push_back(fmt::format("{}", v));
            };
            const auto i64 = [&](int64_t v) { b.append_int(ci[k++], v), fields.push_back(std::to_string(v)); };
            b.append_string(ci[k++], r.image < 0 ? "overall" : "image");
            fields.push_back(r.image < 0 ? "overall" : "image");
            if (r.image < 0) b.append_null(ci[k++]), fields.push_back("");
            else i64(r.image);
            i64(r.px.n_valid);
            d(r.px.precision), d(r.px.recall), d(r.px.f1), d(r.px.iou), d(r.px.dice), d(r.auc), d(r.coverage_pred), d(r.coverage_true);
            i64(r.n_pred), i64(r.n_true);
            for (const auto& m : r.inst) d(m.ap);
            i64(r.particles.tp), i64(r.particles.fp), i64(r.particles.fn);
            d(r.particles.precision), d(r.particles.recall), d(r.particles.f1);
            for (size_t i = 0; i < fields.size(); ++i) csv += (i ? "," : "") + fields[i];
            csv += "\n";
        }
        if (!file_.empty()) spotflow_csv::write_file(file_, csv);
        if (!summary_.empty()) {
            nlohmann::json j = {{"images", rows_.size() - 1}, {"threshold", threshold_}, {"precision", all.px.precision}, {"recall", all.px.recall},
                                {"f1", all.px.f1}, {"iou", all.px.iou}, {"dice", all.px.dice}, {"auc", std::isnan(all.auc) ? nlohmann::json() : nlohmann::json(all.auc)},
                                {"n_valid", all.px.n_valid}, {"particle_precision", all.particles.precision},
                                {"particle_recall", all.particles.recall}, {"particle_f1", all.particles.f1}, {"match_radius_px", radius_}};
            double dsum = 0, dss = 0;
            const auto n = static_cast<double>(rows_.size() - 1);
            for (size_t i = 0; i + 1 < rows_.size(); ++i) dsum += rows_[i].px.dice;
            for (size_t i = 0; i + 1 < rows_.size(); ++i) dss += std::pow(rows_[i].px.dice - dsum / n, 2);
            j["dice_mean_image"] = dsum / n;
            j["dice_sd_image"] = n > 1 ? std::sqrt(dss / (n - 1)) : 0.0;
            for (const auto& m : all.inst) j[ap_name(m.threshold)] = std::isnan(m.ap) ? nlohmann::json() : nlohmann::json(m.ap);
            spotflow_csv::write_file(summary_, j.dump(2) + "\n");
        }
        host_->log(host_, SPOTFLOW_LOG_INFO,
                   fmt::format("eval.segmentation: {} images: Dice {:.4f}, IoU {:.4f}, P {:.4f}, R {:.4f}, AUC {:.4f}, AP50 {:.3f}, particle F1 {:.3f}",
                               rows_.size() - 1, all.px.dice, all.px.iou, all.px.precision, all.px.recall, all.auc,
                               all.inst.empty() ? NAN : all.inst[0].ap, all.particles.f1).c_str());
        return spotflow::emit_table(out, 0, b, spotflow::table_info());
    }

private:
    void score(int64_t index, const Frame& fr) {
        const size_t n = static_cast<size_t>(fr.w * fr.h);
        std::vector<int8_t> truth(n);
        bool labelled = false;
        for (size_t k = 0; k < n; ++k) {
            truth[k] = static_cast<int8_t>(fr.truth[k] < 0 ? -1 : fr.truth[k] > 0 ? 1 : 0);
            labelled = labelled || fr.truth[k] > 1;
        }
        std::vector<uint8_t> pred(n);
        for (size_t k = 0; k < n; ++k) pred[k] = use_mask_ ? fr.mask[k] > 0 : fr.prob[k] >= threshold_;
        Row r;
        r.image = index;
        const sg::Confusion c = sg::confusion(pred.data(), truth.data(), n);
        overall_ += c;
        r.px = sg::scores(c);
        r.auc = sg::roc_auc(fr.prob.data(), truth.data(), n);
        auc_.add(fr.prob.data(), truth.data(), n);
        r.coverage_pred = c.valid() ? static_cast<double>(c.tp + c.fp) / static_cast<double>(c.valid()) : 0;
        r.coverage_true = c.valid() ? static_cast<double>(c.tp + c.fn) / static_cast<double>(c.valid()) : 0;
        const auto W = static_cast<int32_t>(fr.w), H = static_cast<int32_t>(fr.h);
        // Predicted objects: components of at least min_object_px (smaller ones are dropped from the label image).
        sg::Components pc = sg::label_components(pred.data(), W, H, conn_);
        {
            std::vector<int64_t> area(static_cast<size_t>(pc.count) + 1, 0);
            for (int32_t l : pc.label) ++area[static_cast<size_t>(l)];
            std::vector<uint8_t> keep(n);
            for (size_t k = 0; k < n; ++k) keep[k] = pc.label[k] > 0 && area[static_cast<size_t>(pc.label[k])] >= min_area_;
            pc = sg::label_components(keep.data(), W, H, conn_);
        }
        sg::Components tc;
        if (labelled) {
            std::vector<int32_t> l(fr.truth);
            for (int32_t& v : l) v = std::max(v, 0);
            tc = sg::from_labels(l.data(), W, H);
        } else {
            std::vector<uint8_t> tm(n);
            for (size_t k = 0; k < n; ++k) tm[k] = truth[k] == 1;
            tc = sg::label_components(tm.data(), W, H, conn_);
        }
        r.inst = sg::match_instances(pc, tc, thresholds_);
        for (size_t i = 0; i < r.inst.size(); ++i) {
            overall_inst_[i].tp += r.inst[i].tp;
            overall_inst_[i].fp += r.inst[i].fp;
            overall_inst_[i].fn += r.inst[i].fn;
        }
        sg::Points pp, tp;
        for (const auto& bl : sg::blobs(pc)) {
            pp.x.push_back(bl.x), pp.y.push_back(bl.y), pp.image.push_back(index);
            pred_pts_.x.push_back(bl.x), pred_pts_.y.push_back(bl.y), pred_pts_.image.push_back(index);
        }
        for (const auto& bl : sg::blobs(tc)) {
            tp.x.push_back(bl.x), tp.y.push_back(bl.y), tp.image.push_back(index);
            true_pts_.x.push_back(bl.x), true_pts_.y.push_back(bl.y), true_pts_.image.push_back(index);
        }
        r.n_pred = static_cast<int64_t>(pp.x.size());
        r.n_true = static_cast<int64_t>(tp.x.size());
        r.particles = sg::match_points(pp, tp, radius_);
        rows_.push_back(std::move(r));
    }

    const spotflow_host* host_;
    double threshold_ = 0.5, radius_ = 10;
    bool use_mask_ = false;
    int64_t min_area_ = 1;
    sg::Connectivity conn_ = sg::Connectivity::Eight;
    std::vector<double> thresholds_;
    std::string file_, summary_;
    std::map<int64_t, Frame> pending_;
    std::vector<Row> rows_;
    sg::Confusion overall_;
    sg::RocAuc auc_;
    std::vector<sg::InstanceMatch> overall_inst_;
    sg::Points pred_pts_, true_pts_;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Node>();
const spotflow_port_desc kInputs[] = {
    {"probability", SPOTFLOW_TYPE_PROBABILITY, SPOTFLOW_DATA_TENSOR, 0, "T x H x W foreground probability; frame index = image"},
    {"truth", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, 0, "T x H x W truth labels (0, instance or class labels > 0, -1 ignore); frame index = image"},
    {"mask", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL, "predicted masks (mask_source input)"}};
const spotflow_port_desc kOutputs[] = {
    {"scores", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "per image and overall: pixel P/R/F1/IoU/Dice, AUC, ap_50/75/90, particle P/R/F1"}};
const spotflow_plugin_desc kDesc = {"eval.segmentation", "1.0.0",
                                    "Scores segmentations: pixel P/R/F1/IoU/Dice, exact AUC, instance AP at IoU thresholds, particle P/R/F1, per image and overall",
                                    "evaluator", kInputs, 3, 1, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace eval_segmentation

SPOTFLOW_EXPORT_PLUGINS(eval_segmentation::kDesc);

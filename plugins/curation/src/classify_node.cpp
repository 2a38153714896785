// classify.curation: applies a saved curation pipeline to a metrics table
// (UnitRefine's auto-labelling), and filters a tracks table by its verdicts.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "nodes.hpp"
#include "pipeline.hpp"
#include "spotflow/node.hpp"
#include "spotflow/params.hpp"
#include "spotflow_csv/csv_writer.hpp"
#include "classify.curation.json.hpp"

#ifndef CURATION_DEFAULT_MODEL
#define CURATION_DEFAULT_MODEL "curation_tracks_default.json"
#endif

namespace curation {
namespace {

using spotflow::ColumnType;
using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::classify_curation; // classify.curation.json

class ClassifyNode {
public:
    static constexpr const char* kContext = "applying the curation model";

    ClassifyNode(const spotflow_host* host, const char* params_json) : host_(host) {
        spotflow::read_params(params_json, [&](const nlohmann::json& j) {
            model_file_ = j.at("model_file");
            id_column_ = j.at("id_column");
            keep_ = j.at("keep").get<std::set<std::string>>();
            min_probability_ = j.at("min_probability");
            predictions_file_ = j.at("predictions_file");
            return 0;
        });
        if (!predictions_file_.empty()) predictions_path_ = spotflow::output_path(host, predictions_file_);
        if (!model_file_.empty()) load_file(model_file_); // fail before the run
    }

    spotflow_status process(const spotflow_input& in, const spotflow_packet& packet, const spotflow_emitter*) {
        static const char* kWhat[] = {"metrics", "model", "tracks"};
        if (packet.kind != SPOTFLOW_DATA_TABLE)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string(kWhat[in.port]) + ": received a tensor; a table is expected");
        try {
            if (in.port == 0) metrics_.append(packet.schema, packet.array);
            else if (in.port == 2) tracks_.append(packet.schema, packet.array), have_tracks_ = true, info_ = packet.info;
            else {
                const spotflow::TableView t(packet.schema, packet.array);
                const int64_t c = t.find("model");
                if (c < 0 || !t.is_string(c) || t.rows() != 1)
                    throw std::invalid_argument("a curation model is one row with a text column 'model'");
                const auto j = nlohmann::json::parse(t.get_string(c, 0));
                pipeline_ = std::make_unique<Pipeline>(Pipeline::from_json(j, std::string("the model from ") + in.source));
            }
        } catch (const nlohmann::json::exception& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, std::string("model: ") + e.what());
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_FORMAT, std::string(kWhat[in.port]) + ": " + e.what());
        }
        return SPOTFLOW_OK;
    }

    spotflow_status finish(const spotflow_emitter* out) {
        try {
            return classify(out);
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        }
    }

private:
    void load_file(const std::string& path) {
        try {
            pipeline_ = std::make_unique<Pipeline>(Pipeline::load(path));
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        }
    }

    spotflow_status classify(const spotflow_emitter* out) {
        if (!pipeline_) { // the model shipped beside the plugin library
            const std::string dir = host_->abi.minor >= 1 && host_->plugin_dir ? host_->plugin_dir(host_) : ".";
            load_file(dir + "/" + CURATION_DEFAULT_MODEL);
        }
        const Pipeline& p = *pipeline_;
        const std::string id = id_column_.empty() && metrics_.has(p.id_column) ? p.id_column
                                                                               : curation::id_column(metrics_, id_column_, "metrics");
        const std::vector<std::string> ids = metrics_.rows() > 0 ? metrics_.strings(id) : std::vector<std::string>{};
        const Matrix x = read_metrics(metrics_, p.metric_names, "metrics");
        const Matrix proba = p.predict_proba(x);
        const std::vector<int> pred = argmax_rows(proba);

        spotflow::TableBuilder b;
        const auto c_id = b.add_column(id, ColumnType::Utf8);
        const auto c_pred = b.add_column("prediction", ColumnType::Utf8);
        const auto c_prob = b.add_column("probability", ColumnType::Float64);
        std::map<std::string, bool> kept;
        int64_t n_kept = 0;
        spotflow_csv::CsvFile f(predictions_path_);
        f.field(id).field(std::string_view("prediction")).field(std::string_view("probability")).end_row();
        for (size_t r = 0; r < x.rows; ++r) {
            const std::string& label = p.classes[static_cast<size_t>(pred[r])];
            const double prob = proba.at(r, static_cast<size_t>(pred[r]));
            b.append_string(c_id, ids[r]);
            b.append_string(c_pred, label);
            b.append_double(c_prob, prob);
            f.field(ids[r]).field(label).field(prob);
            f.end_row();
            double keep_prob = 0;
            for (size_t c = 0; c < p.classes.size(); ++c)
                if (keep_.count(p.classes[c])) keep_prob += proba.at(r, c);
            const bool keep = keep_prob >= min_probability_;
            kept[ids[r]] = keep;
            n_kept += keep;
        }
        if (!predictions_path_.empty()) f.save();
        host_->log(host_, SPOTFLOW_LOG_INFO,
                   fmt::format("{} of {} items kept (probability of {} at least {})", n_kept, x.rows, fmt::join(keep_, " or "), min_probability_).c_str());
        if (const auto s = spotflow::emit_table(out, 0, b, spotflow::table_info())) return s;
        if (!have_tracks_) return SPOTFLOW_OK;

        // The tracks of the kept ids, rows in input order, every column unchanged.
        std::vector<int64_t> order;
        int64_t unknown = 0;
        if (tracks_.rows() > 0) {
            if (!tracks_.has("track_id")) throw std::invalid_argument("tracks: no column 'track_id'");
            const std::vector<std::string> tid = tracks_.strings("track_id");
            std::set<std::string> unknown_ids;
            for (size_t r = 0; r < tid.size(); ++r) {
                const auto it = kept.find(tid[r]);
                if (it == kept.end()) {
                    unknown_ids.insert(tid[r]);
                    continue;
                }
                if (it->second) order.push_back(static_cast<int64_t>(r));
            }
            unknown = static_cast<int64_t>(unknown_ids.size());
        }
        if (unknown > 0)
            host_->log(host_, SPOTFLOW_LOG_WARNING,
                       fmt::format("{} tracks have no metrics row and are left out of the filtered tracks", unknown).c_str());
        spotflow_packet packet{};
        packet.kind = SPOTFLOW_DATA_TABLE;
        packet.info = info_;
        packet.info.frame_offset = 0;
        packet.info.frame_count = 0;
        tracks_.build(order, {}, &packet.schema, &packet.array);
        return out->emit(out, 1, &packet);
    }

    const spotflow_host* host_;
    std::string model_file_, id_column_, predictions_file_, predictions_path_;
    std::set<std::string> keep_;
    double min_probability_ = 0;
    std::unique_ptr<Pipeline> pipeline_;
    TableAccumulator metrics_, tracks_;
    bool have_tracks_ = false;
    spotflow_stream_info info_ = spotflow::table_info();
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<ClassifyNode>();

const spotflow_port_desc kInputs[] = {
    {"metrics", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM,
     "One row per item: its id and the model's metrics"},
    {"model", kModelType, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "A pipeline from train.curation (else model_file)"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL | SPOTFLOW_PORT_WHOLE_STREAM,
     "Tracks to filter by the predictions (ids: track_id)"}};
const spotflow_port_desc kOutputs[] = {
    {"predictions", SPOTFLOW_TYPE_TABLE, SPOTFLOW_DATA_TABLE, 0, "id, prediction, probability per metrics row"},
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "The tracks predicted as kept, every column unchanged"}};

} // namespace

const spotflow_plugin_desc kClassifyDesc = {
    "classify.curation", "1.0.0",
    "Applies a train.curation model to a metrics table (prediction, probability) and filters tracks by it",
    "classifier", kInputs, 3, 2, kOutputs, kSchema, &kVtable, nullptr};

} // namespace curation

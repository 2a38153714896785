// gapfill.fragments: merges track fragments across temporal gaps, on any
// linker's output (seed 000, Step 6).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "gapfill.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin_error.hpp"
#include "spotflow_plot/plot.hpp"
#include "spotflow_tables/accumulator.hpp"
#include "schema.json.hpp"

namespace gapfill {
namespace {

using spotflow::PluginError;

constexpr const char* kSchema = spotflow_schemas::schema; // schema.json

struct Filler {
    const spotflow_host* host;
    Options options;
    bool fill_linear;
    std::string figure;
    spotflow::tables::TableAccumulator tracks;
};

Filler make_state(const spotflow_host* host, const char* params_json) {
    const auto p = nlohmann::json::parse(params_json);
    Options o;
    o.max_gap = p.at("max_gap");
    o.max_distance = p.at("max_distance");
    o.gate = p.at("gate");
    o.step_variance = p.at("step_variance");
    o.velocity_weight = p.at("velocity_weight");
    o.velocity_points = p.at("velocity_points");
    o.intensity_weight = p.at("intensity_weight");
    o.directed = p.value("directed", true);
    o.birth_test = p.value("birth_test", true);
    return Filler{host, o, p.value("fill_gaps", "none") == "linear", p.at("figure"), {}};
}

spotflow_status process(Filler& f, const spotflow_input*, const spotflow_packet* in, const spotflow_emitter*) {
    try {
        f.tracks.append(in->schema, in->array);
    } catch (const std::invalid_argument& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks: ") + e.what());
    }
    return SPOTFLOW_OK;
}

struct Stats {
    int64_t tracks = 0;
    double mean_length = 0, median_length = 0;
};

Stats stats_of(const std::vector<int64_t>& ids) {
    std::map<int64_t, int64_t> len;
    for (const int64_t i : ids) ++len[i];
    Stats s;
    s.tracks = static_cast<int64_t>(len.size());
    if (len.empty()) return s;
    std::vector<double> l;
    for (const auto& [id, n] : len) l.push_back(static_cast<double>(n));
    s.mean_length = std::accumulate(l.begin(), l.end(), 0.0) / static_cast<double>(l.size());
    std::sort(l.begin(), l.end());
    s.median_length = l.size() % 2 ? l[l.size() / 2] : 0.5 * (l[l.size() / 2 - 1] + l[l.size() / 2]);
    return s;
}

std::vector<double> lengths(const std::vector<int64_t>& ids) {
    std::map<int64_t, int64_t> len;
    for (const int64_t i : ids) ++len[i];
    std::vector<double> out;
    for (const auto& [id, n] : len) out.push_back(static_cast<double>(n));
    return out;
}

// Seed 000's gap_filling_comparison.png: the before/after numbers and the
// track-length distributions.
void draw(const spotflow_host* host, const std::string& file, const std::vector<int64_t>& before_ids,
          const std::vector<int64_t>& after_ids, const Stats& before, const Stats& after) {
    const std::string path = spotflow::output_path(host, file);
    namespace plot = spotflow::plot;
    plot::Figure fig(1400, 460, 1, 3, "Gap filling: before and after");
    fig.bars(0, {"Tracks", "", "number of tracks", std::nullopt, std::nullopt, false}, {"before", "after"},
             {{"tracks", {}, {static_cast<double>(before.tracks), static_cast<double>(after.tracks)}}});
    fig.bars(1, {"Track length", "", "points per track"}, {"before", "after"},
             {{"mean", {}, {before.mean_length, after.mean_length}}, {"median", {}, {before.median_length, after.median_length}}});
    const auto lb = lengths(before_ids), la = lengths(after_ids);
    const double hi = std::max(lb.empty() ? 1.0 : *std::max_element(lb.begin(), lb.end()),
                               la.empty() ? 1.0 : *std::max_element(la.begin(), la.end()));
    fig.histograms(2, {"Track length distribution", "track length (points)", "tracks"}, {{"before", {}, lb}, {"after", {}, la}},
                   20, std::make_pair(0.0, hi + 1));
    fig.save_png(path);
}

// Adds to `table` one row per frame a track skips, at the position linearly
// interpolated between the points around the gap, and extends frame, x, y
// and track ids (indexed by row) with them. Returns the rows added.
size_t fill_gaps(spotflow::tables::TableAccumulator& table, std::vector<int64_t>& frame, std::vector<double>& x,
                 std::vector<double>& y, std::vector<int64_t>& ids) {
    std::map<int64_t, std::vector<size_t>> rows_of;
    for (size_t r = 0; r < ids.size(); ++r)
        if (std::isfinite(x[r]) && std::isfinite(y[r])) rows_of[ids[r]].push_back(r);
    size_t added = 0;
    for (auto& [tid, rows] : rows_of) {
        std::stable_sort(rows.begin(), rows.end(), [&](size_t a, size_t b) { return frame[a] < frame[b]; });
        for (size_t k = 1; k < rows.size(); ++k) {
            const size_t a = rows[k - 1], b = rows[k];
            const int64_t gap = frame[b] - frame[a];
            for (int64_t t = 1; t < gap; ++t) {
                const double w = static_cast<double>(t) / static_cast<double>(gap);
                const int64_t fr = frame[a] + t;
                const double xi = x[a] + w * (x[b] - x[a]), yi = y[a] + w * (y[b] - y[a]);
                table.append_row({{"frame", static_cast<double>(fr)}, {"x", xi}, {"y", yi}});
                frame.push_back(fr);
                x.push_back(xi);
                y.push_back(yi);
                ids.push_back(tid);
                ++added;
            }
        }
    }
    return added;
}

spotflow_status finish(Filler& f, const spotflow_emitter* out) {
    std::vector<int64_t> frame, id;
    std::vector<double> x, y, photons;
    if (f.tracks.rows() > 0 || !f.tracks.names().empty()) {
        try {
            frame = f.tracks.ints("frame");
            id = f.tracks.ints("track_id");
            x = f.tracks.doubles("x");
            y = f.tracks.doubles("y");
            if (f.tracks.has("photons")) photons = f.tracks.doubles("photons");
        } catch (const std::invalid_argument& e) {
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("tracks: ") + e.what());
        }
    }
    // Fragments in order of first frame, points in frame order.
    std::map<int64_t, std::vector<size_t>> rows_of;
    for (size_t r = 0; r < id.size(); ++r) rows_of[id[r]].push_back(r);
    std::vector<Fragment> frags;
    for (auto& [tid, rows] : rows_of) {
        std::stable_sort(rows.begin(), rows.end(), [&](size_t a, size_t b) { return frame[a] < frame[b]; });
        Fragment fr{tid, {}, {}, {}, std::nan("")};
        double sum = 0;
        for (const size_t r : rows) {
            fr.frame.push_back(frame[r]);
            fr.x.push_back(x[r]);
            fr.y.push_back(y[r]);
            if (!photons.empty()) sum += photons[r];
        }
        if (!photons.empty()) fr.intensity = sum / static_cast<double>(rows.size());
        frags.push_back(std::move(fr));
    }
    std::stable_sort(frags.begin(), frags.end(), [](const Fragment& a, const Fragment& b) { return a.frame.front() < b.frame.front(); });
    const auto next = join(frags, f.options);

    // New ids: follow chains from fragments nothing continues.
    std::vector<bool> continued(frags.size(), false);
    for (const int64_t n : next)
        if (n >= 0) continued[static_cast<size_t>(n)] = true;
    std::map<int64_t, int64_t> new_id;
    int64_t k = 0;
    for (size_t a = 0; a < frags.size(); ++a) {
        if (continued[a]) continue;
        for (int64_t c = static_cast<int64_t>(a); c >= 0; c = next[static_cast<size_t>(c)]) new_id[frags[static_cast<size_t>(c)].id] = k;
        ++k;
    }
    std::vector<int64_t> merged(id.size());
    for (size_t r = 0; r < id.size(); ++r) merged[r] = new_id.at(id[r]);

    const Stats before = stats_of(id), after = stats_of(merged);
    const std::string note = "gap filling: " + std::to_string(before.tracks) + " -> " + std::to_string(after.tracks) +
                             " tracks, mean length " + std::to_string(before.mean_length) + " -> " +
                             std::to_string(after.mean_length);
    f.host->log(f.host, SPOTFLOW_LOG_INFO, note.c_str());

    if (!f.figure.empty()) draw(f.host, f.figure, id, merged, before, after);

    std::vector<int64_t> order(id.size());
    std::iota(order.begin(), order.end(), 0);
    std::vector<int64_t> interpolated;
    if (f.fill_linear) {
        const size_t added = fill_gaps(f.tracks, frame, x, y, merged);
        // Points an earlier pass interpolated stay marked.
        interpolated = f.tracks.has("interpolated") ? f.tracks.ints("interpolated")
                                                    : std::vector<int64_t>(merged.size(), 0);
        std::fill(interpolated.begin() + static_cast<std::ptrdiff_t>(id.size()), interpolated.end(), 1);
        order.resize(merged.size());
        std::iota(order.begin(), order.end(), 0);
        // Frame order, as linkers emit, with the new rows in place.
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            const auto fa = frame[static_cast<size_t>(a)], fb = frame[static_cast<size_t>(b)];
            return fa != fb ? fa < fb : merged[static_cast<size_t>(a)] < merged[static_cast<size_t>(b)];
        });
        f.host->log(f.host, SPOTFLOW_LOG_INFO,
                    ("gap filling: " + std::to_string(added) + " interpolated points added").c_str());
    }
    spotflow_packet p{};
    p.kind = SPOTFLOW_DATA_TABLE;
    std::vector<spotflow::tables::TableAccumulator::IntColumn> extra = {{"track_id", merged}};
    if (f.fill_linear) extra.push_back({"interpolated", interpolated});
    f.tracks.build(order, extra, &p.schema, &p.array);
    if (const auto s = out->emit(out, 0, &p); s != SPOTFLOW_OK) return s;

    spotflow::TableBuilder b;
    using spotflow::ColumnType;
    const auto c_stage = b.add_column("stage", ColumnType::Utf8), c_n = b.add_column("n_tracks", ColumnType::Int64),
               c_mean = b.add_column("mean_track_length", ColumnType::Float64),
               c_med = b.add_column("median_track_length", ColumnType::Float64);
    for (const auto& [stage, s] : {std::make_pair("before", before), std::make_pair("after", after)}) {
        b.append_string(c_stage, stage);
        b.append_int(c_n, s.tracks);
        b.append_double(c_mean, s.mean_length);
        b.append_double(c_med, s.median_length);
    }
    spotflow_packet q{};
    q.kind = SPOTFLOW_DATA_TABLE;
    b.finish(&q.schema, &q.array);
    return out->emit(out, 1, &q);
}

constexpr char kFillingGaps[] = "filling gaps";

const spotflow_port_desc kInputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_WHOLE_STREAM, "frame, x, y, track_id (+ photons)"}};
const spotflow_port_desc kOutputs[] = {
    {"tracks", SPOTFLOW_TYPE_TRACKS, SPOTFLOW_DATA_TABLE, 0, "the same rows and columns, fragments joined under new track ids"},
    {"summary", SPOTFLOW_TYPE_METRICS, SPOTFLOW_DATA_TABLE, 0, "stage (before/after), n_tracks, mean and median track length"}};
const spotflow_node_vtable kVtable =
    spotflow::node_vtable<spotflow::FunctionNode<Filler, make_state, process, finish, kFillingGaps>>();
const spotflow_plugin_desc kDesc = {"gapfill.fragments", "1.0.0",
                                    "Joins track fragments across temporal gaps by a global assignment of ends to starts",
                                    "gapfiller", kInputs, 1, 2, kOutputs, kSchema, &kVtable, nullptr};

} // namespace
} // namespace gapfill

SPOTFLOW_EXPORT_PLUGINS(gapfill::kDesc);

#include "dataset.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace curation {
namespace {

std::string first_of(const TableAccumulator& t, const std::string& requested, const std::vector<std::string>& names,
                     const std::string& what, const std::string& kind) {
    if (!requested.empty()) {
        if (!t.has(requested)) throw std::invalid_argument(what + " has no column '" + requested + "'");
        return requested;
    }
    for (const auto& n : names)
        if (t.has(n)) return n;
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw std::invalid_argument(what + " has none of the " + kind + " columns " + list + " (name one with the " + kind +
                                "_column param)");
}

bool numeric(const TableAccumulator& t, const std::string& name) {
    try {
        (void)t.doubles(name);
        return true;
    } catch (const std::invalid_argument&) {
        return false;
    }
}

} // namespace

std::string id_column(const TableAccumulator& t, const std::string& requested, const std::string& what) {
    return first_of(t, requested, {"cluster_id", "unit_id", "unit_ids", "track_id", "id"}, what, "id");
}

std::string label_column(const TableAccumulator& t, const std::string& requested, const std::string& what) {
    return first_of(t, requested, {"group", "label", "quality"}, what, "label");
}

std::vector<std::string> metric_columns(const TableAccumulator& t, const std::vector<std::string>& requested,
                                        const std::vector<std::string>& exclude, const std::string& what) {
    std::vector<std::string> out;
    if (!requested.empty()) {
        out = requested;
    } else {
        for (const auto& n : t.names())
            if (std::find(exclude.begin(), exclude.end(), n) == exclude.end()) out.push_back(n);
    }
    for (const auto& n : out) {
        if (!t.has(n)) throw std::invalid_argument(what + " has no metric column '" + n + "'");
        if (!numeric(t, n))
            throw std::invalid_argument(what + ": metric column '" + n +
                                        "' holds text, not numbers (leave it out with metric_names or exclude_metrics)");
    }
    if (out.empty()) throw std::invalid_argument(what + " has no metric column");
    return out;
}

Matrix read_metrics(const TableAccumulator& t, const std::vector<std::string>& names, const std::string& what) {
    Matrix m(static_cast<size_t>(t.rows()), names.size());
    for (size_t c = 0; c < names.size(); ++c) {
        if (!t.has(names[c])) throw std::invalid_argument(what + " has no column '" + names[c] + "', a metric of the model");
        if (!numeric(t, names[c]))
            throw std::invalid_argument(what + ": column '" + names[c] + "' holds text, not numbers");
        const std::vector<double> v = t.doubles(names[c]);
        for (size_t r = 0; r < v.size(); ++r) m.at(r, c) = v[r];
    }
    return m;
}

Labelled join_labels(const TableAccumulator& metrics, const std::string& metrics_id, const TableAccumulator& labels,
                     const std::string& labels_id, const std::string& label) {
    const std::vector<std::string> mids = metrics.strings(metrics_id);
    std::map<std::string, size_t> row_of;
    for (size_t r = 0; r < mids.size(); ++r) {
        if (mids[r].empty()) throw std::invalid_argument("metrics: row " + std::to_string(r) + " has no " + metrics_id);
        if (!row_of.emplace(mids[r], r).second)
            throw std::invalid_argument("metrics: " + metrics_id + " " + mids[r] + " appears twice");
    }
    const std::vector<std::string> lids = labels.strings(labels_id), lv = labels.strings(label);
    std::map<size_t, std::string> label_of; // metrics row -> label
    std::set<std::string> seen;
    for (size_t r = 0; r < lids.size(); ++r) {
        if (!seen.insert(lids[r]).second)
            throw std::invalid_argument("labels: " + labels_id + " " + lids[r] + " appears twice");
        if (lv[r].empty()) throw std::invalid_argument("labels: " + labels_id + " " + lids[r] + " has no " + label);
        const auto it = row_of.find(lids[r]);
        if (it == row_of.end())
            throw std::invalid_argument("labels: " + labels_id + " " + lids[r] + " matches no metrics row (" +
                                        metrics_id + ")");
        label_of[it->second] = lv[r];
    }
    if (label_of.empty()) throw std::invalid_argument("no labelled item: the metrics table or the labels table has no rows");
    Labelled out;
    std::set<std::string> classes;
    for (const auto& [row, l] : label_of) classes.insert(l);
    out.classes.assign(classes.begin(), classes.end());
    for (const auto& [row, l] : label_of) {
        out.ids.push_back(mids[row]);
        out.metrics_rows.push_back(row);
        out.labels.push_back(l);
        out.y.push_back(static_cast<int>(std::lower_bound(out.classes.begin(), out.classes.end(), l) - out.classes.begin()));
    }
    out.unlabelled = static_cast<int64_t>(mids.size()) - static_cast<int64_t>(label_of.size());
    return out;
}

} // namespace curation

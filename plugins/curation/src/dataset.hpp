// From the input tables to the training set: which column is the id, which
// are metrics, the labels joined to the metrics rows by id, and the checks
// the issue asks for (each an error line naming the column or the id).
#pragma once

#include <string>
#include <vector>

#include "ml.hpp"
#include "spotflow_tables/accumulator.hpp"

namespace curation {

using spotflow::tables::TableAccumulator;

// `requested`, or else the first of cluster_id, unit_id, unit_ids, track_id,
// id that `t` has; throws std::invalid_argument naming `what` otherwise.
std::string id_column(const TableAccumulator& t, const std::string& requested, const std::string& what);
// `requested`, or else the first of group, label, quality.
std::string label_column(const TableAccumulator& t, const std::string& requested, const std::string& what);

// The metric columns: `requested` (each must exist and be numeric), or else
// every column but the id, the label and `exclude`; a text column is an
// error naming it.
std::vector<std::string> metric_columns(const TableAccumulator& t, const std::vector<std::string>& requested,
                                        const std::vector<std::string>& exclude, const std::string& what);

// The named columns as a matrix (NaN and +-inf kept; the imputer fills
// them). A missing or text column is an error naming it and `what`.
Matrix read_metrics(const TableAccumulator& t, const std::vector<std::string>& names, const std::string& what);

struct Labelled {
    std::vector<std::string> ids;          // of the labelled items, in metrics order
    std::vector<size_t> metrics_rows;      // their rows in the metrics table
    std::vector<std::string> labels;       // as given
    std::vector<int> y;                    // class index
    std::vector<std::string> classes;      // class index -> label (sorted)
    int64_t unlabelled = 0;                // metrics rows without a label
};

// Joins by id. Errors: a duplicated id in either table, a label with no
// value, a label id that matches no metrics row (named), no labelled row.
Labelled join_labels(const TableAccumulator& metrics, const std::string& metrics_id, const TableAccumulator& labels,
                     const std::string& labels_id, const std::string& label);

} // namespace curation

// A whole table kept in memory from a stream of Arrow batches, for nodes
// that need the whole stream (linkers, gap fillers, evaluators), and the
// way back: the same columns, reordered or extended, as one batch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "spotflow/arrow_c.h"
#include "spotflow/table.hpp"

namespace spotflow::tables {

class TableAccumulator {
public:
    // Appends one batch. The first sets the columns; a later batch must have
    // the same column names in the same order (std::invalid_argument naming
    // the difference otherwise). Integer columns are kept as int64, other
    // numeric columns as float64, strings as strings; nulls are kept.
    void append(const ArrowSchema& schema, const ArrowArray& array);

    // Appends one made-up row (an interpolated point, say): the named
    // numeric columns take the given values (rounded for integer columns),
    // every other column is null. Throws std::invalid_argument naming a
    // column that is absent or holds text.
    void append_row(const std::vector<std::pair<std::string, double>>& values);

    int64_t rows() const { return rows_; }
    bool has(const std::string& name) const { return index(name) >= 0; }
    const std::vector<std::string>& names() const { return names_; }

    // A numeric column as double (NaN for null); throws naming the column if
    // it is absent or not numeric.
    std::vector<double> doubles(const std::string& name) const;
    // An integer column (floats are truncated; null reads as 0).
    std::vector<int64_t> ints(const std::string& name) const;
    // Any column as text (numbers printed, null as ""): for keys such as a
    // sample name that may be written as a number or a string.
    std::vector<std::string> strings(const std::string& name) const;

    // A column to add, or to replace when a column of that name exists.
    struct IntColumn {
        std::string name;
        std::vector<int64_t> values; // one per row of the accumulated table
    };

    // Builds one batch: the rows in `order` (indices into the accumulated
    // rows; may skip rows), every column, plus `extra` columns (indexed by
    // the original row) appended or replacing a same-named column.
    void build(const std::vector<int64_t>& order, const std::vector<IntColumn>& extra, ArrowSchema* schema,
               ArrowArray* array) const;

private:
    struct Column {
        ColumnType type;
        std::vector<int64_t> i;
        std::vector<double> d;
        std::vector<std::string> s;
        std::vector<bool> null;
    };
    int64_t index(const std::string& name) const;
    std::vector<std::string> names_;
    std::vector<Column> cols_;
    int64_t rows_ = 0;
};

} // namespace spotflow::tables

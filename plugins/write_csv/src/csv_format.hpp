// Table batches as CSV text: a header of column names, then one line per
// row. Integers print as integers, floats in their shortest round-trip form,
// nulls and NaN as empty fields; fields are quoted per RFC 4180 only when
// they hold a comma, a quote or a line break. Lines end in "\n".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spotflow/table.hpp"

namespace write_csv {

// `columns` picks and orders the columns written (indices into the table).
void append_header(std::string& out, const spotflow::TableView& table, const std::vector<int64_t>& columns);
void append_rows(std::string& out, const spotflow::TableView& table, const std::vector<int64_t>& columns);

// A field as RFC 4180 wants it: quoted, with quotes doubled, when needed.
void append_field(std::string& out, std::string_view text);

} // namespace write_csv

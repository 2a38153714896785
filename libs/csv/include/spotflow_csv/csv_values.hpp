// Text to numbers for CSV fields: the whole field (surrounding spaces
// ignored) must be the number, so "12abc" or "1,5" never half-parse.
#pragma once

#include <cstdint>
#include <string_view>

namespace spotflow_csv {

// A decimal integer with optional sign, within int64.
bool parse_int64(std::string_view text, int64_t& out);

// A decimal or scientific number, or nan / inf (any case), with optional sign.
bool parse_double(std::string_view text, double& out);

// The field without leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

} // namespace spotflow_csv

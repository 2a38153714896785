// Spot feature keys for extra columns: TrackMate writes each feature as an
// XML attribute of <Spot>, so a key must be an XML name, unique on the
// element, and clear of the attributes the reader treats specially.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace write_trackmate {

// One key per column, in order. A key is the column name in upper case with
// every character other than A-Z, 0-9 and '_' replaced by '_'; it gets the
// prefix "SPOTFLOW_" if it would be empty, start with a digit or with "XML"
// (reserved by the XML spec), or equal a `reserved` key; and a suffix "_2",
// "_3", ... if an earlier column already took it (columns that differ only
// in case or punctuation: "Photons" and "photons", "x-sigma" and "x_sigma").
// Pure; thread-safe.
std::vector<std::string> unique_feature_keys(const std::vector<std::string>& columns,
                                             const std::set<std::string>& reserved);

} // namespace write_trackmate

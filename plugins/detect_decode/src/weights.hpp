// detect.decode's weights file: the network description and its tensors in
// one file, checked on load so that a missing, truncated, corrupted or
// foreign file fails with one line naming it.
//
//   "SFDECODE"                 8 bytes
//   uint32 format version (1)  little endian, as everything below
//   uint64 n, then n bytes of JSON: {"network": NetConfig, "tensors":
//          [{"name", "shape"}...], "metadata": {...}}
//   the tensors' float32 data in that order
//   uint64 FNV-1a hash of all bytes before it
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "net.hpp"

namespace decode {

// Writes net and metadata (free-form: training recipe, scores) to path.
// Throws std::runtime_error naming the file.
void save_weights(DecodeNet& net, const nlohmann::json& metadata, const std::string& path);

struct Loaded {
    DecodeNet net{nullptr};
    nlohmann::json metadata;
};

// Reads a weights file and builds its network. Throws std::runtime_error
// with one line: "weights file '<path>': <what is wrong>".
Loaded load_weights(const std::string& path);

} // namespace decode

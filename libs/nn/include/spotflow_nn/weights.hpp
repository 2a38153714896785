// Weights files: named float32 tensors, the description of the network
// they belong to and its model card, in one file checked on load, so a
// missing, truncated, corrupted or foreign file fails with one line naming it.
//
//   "SFWEIGHT"                 8 bytes ("SFDECODE" in detect.decode's first files, same layout)
//   uint32 format version (1)  little endian, as everything below
//   uint64 n, then n bytes of JSON: {"network": {...}, "tensors": [{"name",
//          "shape"}...], "model_card": {...}} ("metadata" in the first files)
//   the tensors' float32 data in that order
//   uint64 FNV-1a hash of all bytes before it
//
// Includes LibTorch: only model code includes this header.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn.h>

namespace spotflow::nn {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct WeightFile {
    std::string path;
    nlohmann::json network;    // what the model builds itself from (architecture, widths, scalings)
    nlohmann::json model_card; // free-form: training recipe, data model, scores
    NamedTensors tensors;      // CPU float32, in file order
};

// The tensors a weights file holds for `module`: its parameters, then its
// buffers (batch-norm statistics), by their dotted names.
NamedTensors module_tensors(torch::nn::Module& module);

// Writes the file (whole or not at all: to a temporary beside it, renamed).
// Throws std::runtime_error naming the file. Thread-safe for distinct paths.
void save_weights(const std::string& path, const nlohmann::json& network, const NamedTensors& tensors,
                  const nlohmann::json& model_card);
void save_weights(const std::string& path, const nlohmann::json& network, torch::nn::Module& module,
                  const nlohmann::json& model_card);

// Reads and checks a file (signature, version, sizes, checksum). Throws
// std::runtime_error with one line: "weights file '<path>': <what is wrong>".
// Thread-safe.
WeightFile read_weights(const std::string& path);

// Copies the file's tensors into module's, which must match by name and
// shape; otherwise throws std::runtime_error "weights file '<path>': another
// architecture: <the first difference>". Not thread-safe for one module.
void load_into(const WeightFile& file, torch::nn::Module& module);

} // namespace spotflow::nn

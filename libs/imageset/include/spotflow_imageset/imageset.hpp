// Image sets for segmentation: one entry per image (its file, its mask file
// if labelled, its split), read from a manifest CSV or an images/ + masks/
// folder pair, validated (files exist, every mask has its image's size and
// is binary or labelled), written as the seed's all.csv / split CSVs, and
// passed between nodes as an "image_set" table. Plain C++.
// Threading: no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spotflow/host.h"
#include "spotflow/table.hpp"

namespace spotflow::imageset {

// The port type of the table (read.image_set, sim.spheroids -> segment.unet,
// train.unet, review.flag): columns index, stem, image, mask, split, width, height.
inline constexpr const char* kTableType = "image_set";

struct Entry {
    int64_t index = 0;
    std::string stem;   // file name without extension (outputs are <stem>_prob.tif, ...)
    std::string image;  // path readable now
    std::string mask;   // "" if unlabelled
    std::string split;  // train | val | test | "" (unassigned)
    int64_t width = 0, height = 0;
};

enum class MaskKind { Auto, Binary, Labels };
MaskKind mask_kind_from(const std::string& name); // "auto" | "binary" | "labels"

// images/ (*.tif, *.tiff) and masks/<stem>_mask.tif(f) beside it; or, when
// the folder has no images/ subfolder, the TIFFs in it (masks: none, or
// <stem>_mask.tif beside them, which are then not images). Sorted by stem.
// Throws PluginError (IO) naming the folder.
std::vector<Entry> scan_folder(const std::string& dir, bool masks_required);

// A manifest CSV: a header with image_path (or image) and optionally
// mask_path (or mask) and split; relative paths are relative to the
// manifest's folder. Throws PluginError (FORMAT / IO) naming file and line.
std::vector<Entry> read_manifest(const std::string& path);

// Checks every entry: image readable (width, height filled in), at least
// min_side px a side; mask readable, the image's size, and of the kind
// (binary: at most two values, one of them 0; labels: non-negative
// integers). Throws PluginError naming the file and the cause.
void validate(const spotflow_host* host, std::vector<Entry>& entries, MaskKind kind, int64_t min_side);

// A mask as labels (0 background, k > 0 object or class k; -1 kept as
// ignore only for signed files), checked as validate does.
struct Mask {
    int64_t width = 0, height = 0;
    std::vector<int32_t> labels;
    bool binary = true; // one foreground value
};
Mask read_mask(const spotflow_host* host, const std::string& path, MaskKind kind, int64_t width, int64_t height);

// Splits not given in the input: a seeded shuffle assigns val_fraction and
// test_fraction of the images (rounded) to val and test, the rest to train.
void assign_splits(std::vector<Entry>& entries, double val_fraction, double test_fraction, uint64_t seed);

// The seed's validate_dataset outputs: CSV text with image_path, mask_path,
// split (paths as given by `name_of`, e.g. final relative names).
std::string manifest_csv(const std::vector<Entry>& entries, const std::string& only_split = "");

TableBuilder to_table(const std::vector<Entry>& entries);
// Throws std::invalid_argument naming a missing column.
std::vector<Entry> from_table(const TableView& table);

} // namespace spotflow::imageset

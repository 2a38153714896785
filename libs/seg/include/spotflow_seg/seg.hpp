// spotflow_seg/seg.hpp: scoring segmentations, the one home for it (torch-
// free). Pixel confusion counts over valid pixels and the scores made from
// them, the exact ROC AUC, connected components and their centres,
// particle-level matching of predicted centres to true centres, and
// instance matching by IoU with the average precision at IoU thresholds.
// Definitions and sources: libs/seg/README.md and docs/metrics.md.
//
// Images are row-major, `width` columns by `height` rows; pixel (x, y) is
// element y * width + x (x = column, y = row, (0, 0) the centre of the
// top-left pixel). A truth mask is int8: 1 = foreground, 0 = background,
// -1 = ignore (not counted anywhere); any other value is an error.
// Invalid input throws std::invalid_argument naming the value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spotflow::seg {

// ---------------------------------------------------------------- pixels

// Counts over the valid pixels (truth != -1).
struct Confusion {
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    int64_t valid() const { return tp + fp + fn + tn; }
    Confusion& operator+=(const Confusion& o) {
        tp += o.tp; fp += o.fp; fn += o.fn; tn += o.tn;
        return *this;
    }
};

// `pred` is 0 (background) or non-zero (foreground), one byte per pixel.
Confusion confusion(const uint8_t* pred, const int8_t* truth, size_t n);
// Foreground where prob >= threshold. A non-finite prob at a valid pixel
// throws (a NaN would otherwise silently count as background).
Confusion confusion(const float* prob, float threshold, const int8_t* truth, size_t n);

// precision TP/(TP+FP), recall TP/(TP+FN), F1 2TP/(2TP+FP+FN), IoU
// (Jaccard) TP/(TP+FP+FN), Dice = F1 for binary masks, accuracy
// (TP+TN)/valid. A ratio whose denominator is 0 is 0 (scikit-learn's
// zero_division=0, what the seed's sklearn calls return after a warning).
struct PixelScores {
    double precision = 0, recall = 0, f1 = 0, iou = 0, dice = 0, accuracy = 0;
    int64_t n_valid = 0;
};
PixelScores scores(const Confusion& c);

// Exact ROC AUC: the Mann-Whitney U statistic over the valid pixels,
// AUC = P(score_pos > score_neg) + 0.5 P(score_pos == score_neg), from
// sorted scores (ties get half credit; equal to the trapezoid area under the
// exact ROC curve, as sklearn.metrics.roc_auc_score). NaN when the valid
// pixels hold only one class. Accumulates any number of images; memory is
// one float per valid pixel. A non-finite score at a valid pixel throws.
class RocAuc {
public:
    void add(const float* score, const int8_t* truth, size_t n);
    double auc() const;          // sorts on first call after an add
    int64_t positives() const { return static_cast<int64_t>(pos_.size()); }
    int64_t negatives() const { return static_cast<int64_t>(neg_.size()); }

private:
    mutable std::vector<float> pos_, neg_;
    mutable bool sorted_ = true;
};
double roc_auc(const float* score, const int8_t* truth, size_t n);

// ------------------------------------------------------ connected components

enum class Connectivity { Four = 4, Eight = 8 };

// Labels of the foreground pixels (non-zero in `mask`): 0 = background,
// 1..count, numbered in raster order of each component's first pixel.
struct Components {
    int32_t width = 0, height = 0, count = 0;
    std::vector<int32_t> label;
};
Components label_components(const uint8_t* mask, int32_t width, int32_t height,
                            Connectivity connectivity = Connectivity::Eight);
// The same from a label image someone else made (0 = background, labels
// 1..max; labels need not be consecutive: count = the largest label).
Components from_labels(const int32_t* labels, int32_t width, int32_t height);

// One component: its pixel count, its centre (mean x, y of its pixels, or
// the weight-weighted mean when weights are given), bounding box and the
// largest weight inside (0 without weights).
struct Blob {
    int32_t label = 0;
    int64_t area = 0;
    double x = 0, y = 0;
    int32_t x_min = 0, x_max = 0, y_min = 0, y_max = 0;
    double max_weight = 0;
};
// One entry per label 1..count with area > 0, in label order. `weights`
// (one per pixel, e.g. a probability map) must be finite and >= 0 inside the
// components; a component whose weights sum to 0 gets its plain centre.
std::vector<Blob> blobs(const Components& c, const float* weights = nullptr);

// Convenience: the centres of the components of (prob >= threshold) with at
// least `min_area` pixels, probability-weighted.
std::vector<Blob> blob_centres(const float* prob, int32_t width, int32_t height, float threshold,
                               int64_t min_area = 1, Connectivity connectivity = Connectivity::Eight);

// ------------------------------------------------------- particle matching

struct Points {
    std::vector<int64_t> image; // which image (frame) each point is in; may be empty = all in image 0
    std::vector<double> x, y;
};

// Optimal one-to-one matching, per image, of predicted centres to true
// centres over pairs strictly closer than `radius` px, minimising the sum of
// matched distances + radius per unmatched point (the same matching as
// eval.detections: spotflow::tables::match_by_frame on the LAP solver).
struct PointMatch {
    std::vector<int64_t> pred_to_true; // per predicted point: matched true point or -1
    int64_t tp = 0, fp = 0, fn = 0;
    double precision = 0, recall = 0, f1 = 0; // 0/0 -> 0
    double mean_distance = 0;                 // over matched pairs (NaN if none)
};
PointMatch match_points(const Points& pred, const Points& truth, double radius);

// ------------------------------------------------------- instance matching

// Pixel overlap of predicted component p with true component t (both > 0).
struct Overlap {
    int32_t pred = 0, truth = 0;
    int64_t intersection = 0;
    double iou = 0;
};
// Every overlapping pair, sorted by (pred, truth). Sizes must agree.
std::vector<Overlap> overlaps(const Components& pred, const Components& truth);

// At IoU threshold t: the one-to-one matching of predicted to true objects
// over pairs with IoU >= t that has the most matches and, among those, the
// largest summed IoU (LAP; Cellpose's metrics._true_positive). Then
//   AP_t = TP / (TP + FP + FN)
// the "average precision" of the 2018 Data Science Bowl (Caicedo et al.
// 2019, Nat. Methods 16:1247), StarDist (Schmidt et al. 2018) and Cellpose
// (Stringer et al. 2021). It is not COCO's AP (area under a score-ranked
// precision-recall curve): objects here carry no confidence. NaN when there
// are no objects at all. Objects are components with area > 0.
struct InstanceMatch {
    double threshold = 0;
    int64_t n_pred = 0, n_true = 0, tp = 0, fp = 0, fn = 0;
    double precision = 0, recall = 0, f1 = 0; // 0/0 -> 0
    double ap = 0;                            // TP/(TP+FP+FN), NaN if 0/0
    double mean_matched_iou = 0;              // NaN if no match
    std::vector<int32_t> pred_to_true;        // index = predicted label (0 unused): true label or 0
};
InstanceMatch match_instances(const Components& pred, const Components& truth, double iou_threshold);
std::vector<InstanceMatch> match_instances(const Components& pred, const Components& truth,
                                           const std::vector<double>& iou_thresholds);
// The Data Science Bowl thresholds 0.50, 0.55, ..., 0.95.
std::vector<double> dsb_thresholds();
// Mean of AP_t over the thresholds (NaN if any is NaN).
double mean_ap(const std::vector<InstanceMatch>& per_threshold);

} // namespace spotflow::seg

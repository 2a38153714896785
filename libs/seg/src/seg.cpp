#include "spotflow_seg/seg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "spotflow_lap/assignment.hpp"
#include "spotflow_tables/frame_matching.hpp"

namespace spotflow::seg {

namespace {

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

void check_truth(int8_t t, size_t i) {
    if (t != 0 && t != 1 && t != -1)
        throw std::invalid_argument("seg: truth mask value " + std::to_string(static_cast<int>(t)) + " at pixel " +
                                    std::to_string(i) + " (allowed: 1, 0, -1 = ignore)");
}

void check_size(int32_t width, int32_t height, const char* what) {
    if (width < 0 || height < 0)
        throw std::invalid_argument(std::string("seg: ") + what + ": negative size " + std::to_string(width) + " x " +
                                    std::to_string(height));
}

} // namespace

Confusion confusion(const uint8_t* pred, const int8_t* truth, size_t n) {
    Confusion c;
    for (size_t i = 0; i < n; ++i) {
        const int8_t t = truth[i];
        check_truth(t, i);
        if (t < 0) continue;
        const bool p = pred[i] != 0;
        if (t) (p ? c.tp : c.fn)++;
        else (p ? c.fp : c.tn)++;
    }
    return c;
}

Confusion confusion(const float* prob, float threshold, const int8_t* truth, size_t n) {
    if (!std::isfinite(threshold)) throw std::invalid_argument("seg: threshold is not finite");
    Confusion c;
    for (size_t i = 0; i < n; ++i) {
        const int8_t t = truth[i];
        check_truth(t, i);
        if (t < 0) continue;
        if (!std::isfinite(prob[i]))
            throw std::invalid_argument("seg: probability at pixel " + std::to_string(i) + " is not finite");
        const bool p = prob[i] >= threshold;
        if (t) (p ? c.tp : c.fn)++;
        else (p ? c.fp : c.tn)++;
    }
    return c;
}

PixelScores scores(const Confusion& c) {
    PixelScores s;
    const double tp = static_cast<double>(c.tp), fp = static_cast<double>(c.fp), fn = static_cast<double>(c.fn),
                 tn = static_cast<double>(c.tn);
    s.precision = ratio(tp, tp + fp);
    s.recall = ratio(tp, tp + fn);
    s.f1 = ratio(2 * tp, 2 * tp + fp + fn);
    s.dice = s.f1;
    s.iou = ratio(tp, tp + fp + fn);
    s.accuracy = ratio(tp + tn, tp + fp + fn + tn);
    s.n_valid = c.valid();
    return s;
}

void RocAuc::add(const float* score, const int8_t* truth, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const int8_t t = truth[i];
        check_truth(t, i);
        if (t < 0) continue;
        if (!std::isfinite(score[i]))
            throw std::invalid_argument("seg: score at pixel " + std::to_string(i) + " is not finite");
        (t ? pos_ : neg_).push_back(score[i]);
    }
    sorted_ = false;
}

double RocAuc::auc() const {
    if (pos_.empty() || neg_.empty()) return std::numeric_limits<double>::quiet_NaN();
    if (!sorted_) {
        std::sort(pos_.begin(), pos_.end());
        std::sort(neg_.begin(), neg_.end());
        sorted_ = true;
    }
    // For each run of equal positive scores: negatives strictly below count 1,
    // equal ones 1/2. Twice the U statistic stays an exact integer sum.
    long double twice_u = 0;
    size_t below = 0; // negatives < current score
    size_t i = 0;
    while (i < pos_.size()) {
        const float v = pos_[i];
        size_t j = i;
        while (j < pos_.size() && pos_[j] == v) ++j;
        while (below < neg_.size() && neg_[below] < v) ++below;
        size_t equal_end = below;
        while (equal_end < neg_.size() && neg_[equal_end] == v) ++equal_end;
        const long double run = static_cast<long double>(j - i);
        twice_u += run * (2.0L * static_cast<long double>(below) + static_cast<long double>(equal_end - below));
        i = j;
    }
    return static_cast<double>(twice_u / (2.0L * static_cast<long double>(pos_.size()) *
                                          static_cast<long double>(neg_.size())));
}

double roc_auc(const float* score, const int8_t* truth, size_t n) {
    RocAuc r;
    r.add(score, truth, n);
    return r.auc();
}

Components label_components(const uint8_t* mask, int32_t width, int32_t height, Connectivity connectivity) {
    check_size(width, height, "label_components");
    Components c;
    c.width = width;
    c.height = height;
    const size_t n = static_cast<size_t>(width) * static_cast<size_t>(height);
    c.label.assign(n, 0);
    std::vector<int64_t> stack;
    const bool eight = connectivity == Connectivity::Eight;
    for (size_t start = 0; start < n; ++start) {
        if (!mask[start] || c.label[start]) continue;
        const int32_t id = ++c.count;
        c.label[start] = id;
        stack.assign(1, static_cast<int64_t>(start));
        while (!stack.empty()) {
            const int64_t p = stack.back();
            stack.pop_back();
            const int32_t x = static_cast<int32_t>(p % width), y = static_cast<int32_t>(p / width);
            for (int32_t dy = -1; dy <= 1; ++dy)
                for (int32_t dx = -1; dx <= 1; ++dx) {
                    if (dx == 0 && dy == 0) continue;
                    if (!eight && dx != 0 && dy != 0) continue;
                    const int32_t nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
                    const size_t q = static_cast<size_t>(ny) * static_cast<size_t>(width) + static_cast<size_t>(nx);
                    if (mask[q] && !c.label[q]) {
                        c.label[q] = id;
                        stack.push_back(static_cast<int64_t>(q));
                    }
                }
        }
    }
    return c;
}

Components from_labels(const int32_t* labels, int32_t width, int32_t height) {
    check_size(width, height, "from_labels");
    Components c;
    c.width = width;
    c.height = height;
    const size_t n = static_cast<size_t>(width) * static_cast<size_t>(height);
    c.label.assign(labels, labels + n);
    for (size_t i = 0; i < n; ++i) {
        if (labels[i] < 0)
            throw std::invalid_argument("seg: negative label " + std::to_string(labels[i]) + " at pixel " +
                                        std::to_string(i));
        c.count = std::max(c.count, labels[i]);
    }
    return c;
}

std::vector<Blob> blobs(const Components& c, const float* weights) {
    const size_t n = c.label.size();
    if (n != static_cast<size_t>(c.width) * static_cast<size_t>(c.height))
        throw std::invalid_argument("seg: components hold " + std::to_string(n) + " labels for a " +
                                    std::to_string(c.width) + " x " + std::to_string(c.height) + " image");
    struct Acc {
        int64_t area = 0;
        double sx = 0, sy = 0, sw = 0, swx = 0, swy = 0, wmax = 0;
        int32_t x0 = std::numeric_limits<int32_t>::max(), x1 = -1, y0 = std::numeric_limits<int32_t>::max(), y1 = -1;
    };
    std::vector<Acc> acc(static_cast<size_t>(c.count) + 1);
    for (size_t i = 0; i < n; ++i) {
        const int32_t l = c.label[i];
        if (l <= 0) continue;
        if (l > c.count) throw std::invalid_argument("seg: label " + std::to_string(l) + " above count");
        const int32_t x = static_cast<int32_t>(i % static_cast<size_t>(c.width));
        const int32_t y = static_cast<int32_t>(i / static_cast<size_t>(c.width));
        Acc& a = acc[static_cast<size_t>(l)];
        a.area++;
        a.sx += x;
        a.sy += y;
        a.x0 = std::min(a.x0, x); a.x1 = std::max(a.x1, x);
        a.y0 = std::min(a.y0, y); a.y1 = std::max(a.y1, y);
        if (weights) {
            const double w = weights[i];
            if (!std::isfinite(w) || w < 0)
                throw std::invalid_argument("seg: weight at pixel " + std::to_string(i) + " is negative or not finite");
            a.sw += w;
            a.swx += w * x;
            a.swy += w * y;
            a.wmax = std::max(a.wmax, w);
        }
    }
    std::vector<Blob> out;
    for (int32_t l = 1; l <= c.count; ++l) {
        const Acc& a = acc[static_cast<size_t>(l)];
        if (a.area == 0) continue;
        Blob b;
        b.label = l;
        b.area = a.area;
        if (weights && a.sw > 0) {
            b.x = a.swx / a.sw;
            b.y = a.swy / a.sw;
        } else {
            b.x = a.sx / static_cast<double>(a.area);
            b.y = a.sy / static_cast<double>(a.area);
        }
        b.x_min = a.x0; b.x_max = a.x1; b.y_min = a.y0; b.y_max = a.y1;
        b.max_weight = a.wmax;
        out.push_back(b);
    }
    return out;
}

std::vector<Blob> blob_centres(const float* prob, int32_t width, int32_t height, float threshold, int64_t min_area,
                               Connectivity connectivity) {
    check_size(width, height, "blob_centres");
    if (!std::isfinite(threshold)) throw std::invalid_argument("seg: threshold is not finite");
    const size_t n = static_cast<size_t>(width) * static_cast<size_t>(height);
    std::vector<uint8_t> mask(n);
    for (size_t i = 0; i < n; ++i) {
        if (std::isnan(prob[i]))
            throw std::invalid_argument("seg: probability at pixel " + std::to_string(i) + " is NaN");
        mask[i] = prob[i] >= threshold;
    }
    const Components c = label_components(mask.data(), width, height, connectivity);
    std::vector<float> w(prob, prob + n);
    for (size_t i = 0; i < n; ++i)
        if (!mask[i]) w[i] = 0;
    std::vector<Blob> all = blobs(c, w.data());
    std::vector<Blob> out;
    for (const Blob& b : all)
        if (b.area >= min_area) out.push_back(b);
    return out;
}

PointMatch match_points(const Points& pred, const Points& truth, double radius) {
    if (!(radius > 0) || !std::isfinite(radius))
        throw std::invalid_argument("seg: match radius " + std::to_string(radius) + " must be finite and > 0");
    auto check = [](const Points& p, const char* what) {
        if (p.x.size() != p.y.size() || (!p.image.empty() && p.image.size() != p.x.size()))
            throw std::invalid_argument(std::string("seg: ") + what + " points: image, x and y differ in length");
        for (size_t i = 0; i < p.x.size(); ++i)
            if (!std::isfinite(p.x[i]) || !std::isfinite(p.y[i]))
                throw std::invalid_argument(std::string("seg: ") + what + " point " + std::to_string(i) +
                                            " has a non-finite coordinate");
    };
    check(pred, "predicted");
    check(truth, "true");
    const std::vector<int64_t> pf = pred.image.empty() ? std::vector<int64_t>(pred.x.size(), 0) : pred.image;
    const std::vector<int64_t> tf = truth.image.empty() ? std::vector<int64_t>(truth.x.size(), 0) : truth.image;
    PointMatch m;
    m.pred_to_true = tables::match_by_frame({pf, pred.x, pred.y}, {tf, truth.x, truth.y}, radius);
    double dsum = 0;
    for (size_t i = 0; i < m.pred_to_true.size(); ++i) {
        const int64_t j = m.pred_to_true[i];
        if (j < 0) continue;
        m.tp++;
        dsum += std::hypot(pred.x[i] - truth.x[static_cast<size_t>(j)], pred.y[i] - truth.y[static_cast<size_t>(j)]);
    }
    m.fp = static_cast<int64_t>(pred.x.size()) - m.tp;
    m.fn = static_cast<int64_t>(truth.x.size()) - m.tp;
    const double tp = static_cast<double>(m.tp);
    m.precision = ratio(tp, tp + static_cast<double>(m.fp));
    m.recall = ratio(tp, tp + static_cast<double>(m.fn));
    m.f1 = ratio(2 * tp, 2 * tp + static_cast<double>(m.fp + m.fn));
    m.mean_distance = m.tp ? dsum / tp : std::numeric_limits<double>::quiet_NaN();
    return m;
}

namespace {

std::vector<int64_t> areas(const Components& c) {
    std::vector<int64_t> a(static_cast<size_t>(c.count) + 1, 0);
    for (const int32_t l : c.label) {
        if (l < 0 || l > c.count) throw std::invalid_argument("seg: label " + std::to_string(l) + " out of range");
        a[static_cast<size_t>(l)]++;
    }
    return a;
}

} // namespace

std::vector<Overlap> overlaps(const Components& pred, const Components& truth) {
    if (pred.width != truth.width || pred.height != truth.height || pred.label.size() != truth.label.size())
        throw std::invalid_argument("seg: predicted " + std::to_string(pred.width) + " x " + std::to_string(pred.height) +
                                    " and true " + std::to_string(truth.width) + " x " + std::to_string(truth.height) +
                                    " label images differ in size");
    const std::vector<int64_t> pa = areas(pred), ta = areas(truth);
    std::unordered_map<uint64_t, int64_t> inter;
    for (size_t i = 0; i < pred.label.size(); ++i) {
        const int32_t p = pred.label[i], t = truth.label[i];
        if (p > 0 && t > 0) inter[(static_cast<uint64_t>(p) << 32) | static_cast<uint32_t>(t)]++;
    }
    std::vector<Overlap> out;
    out.reserve(inter.size());
    for (const auto& [key, count] : inter) {
        Overlap o;
        o.pred = static_cast<int32_t>(key >> 32);
        o.truth = static_cast<int32_t>(key & 0xffffffffu);
        o.intersection = count;
        o.iou = static_cast<double>(count) /
                static_cast<double>(pa[static_cast<size_t>(o.pred)] + ta[static_cast<size_t>(o.truth)] - count);
        out.push_back(o);
    }
    std::sort(out.begin(), out.end(),
              [](const Overlap& a, const Overlap& b) { return a.pred != b.pred ? a.pred < b.pred : a.truth < b.truth; });
    return out;
}

namespace {

InstanceMatch match_from(const std::vector<Overlap>& ov, const std::vector<int64_t>& pa, const std::vector<int64_t>& ta,
                         double t) {
    if (!std::isfinite(t) || t <= 0 || t > 1)
        throw std::invalid_argument("seg: IoU threshold " + std::to_string(t) + " must lie in (0, 1]");
    InstanceMatch m;
    m.threshold = t;
    // Objects present (area > 0); rows/cols of the LAP index them densely.
    std::vector<int32_t> prow(pa.size(), -1), tcol(ta.size(), -1), row_label, col_label;
    for (size_t l = 1; l < pa.size(); ++l)
        if (pa[l] > 0) { prow[l] = static_cast<int32_t>(row_label.size()); row_label.push_back(static_cast<int32_t>(l)); }
    for (size_t l = 1; l < ta.size(); ++l)
        if (ta[l] > 0) { tcol[l] = static_cast<int32_t>(col_label.size()); col_label.push_back(static_cast<int32_t>(l)); }
    m.n_pred = static_cast<int64_t>(row_label.size());
    m.n_true = static_cast<int64_t>(col_label.size());
    m.pred_to_true.assign(pa.size(), 0);
    const double n_min = static_cast<double>(std::max<int64_t>(1, std::min(m.n_pred, m.n_true)));
    std::vector<lap::Candidate> cand;
    for (const Overlap& o : ov)
        if (o.iou >= t)
            // -1 per match dominates: sum of iou/(2 n_min) over <= n_min pairs < 1.
            cand.push_back({prow[static_cast<size_t>(o.pred)], tcol[static_cast<size_t>(o.truth)], -1.0 - o.iou / (2 * n_min)});
    std::unordered_map<uint64_t, double> iou_of;
    for (const Overlap& o : ov) iou_of[(static_cast<uint64_t>(o.pred) << 32) | static_cast<uint32_t>(o.truth)] = o.iou;
    const lap::Assignment a = lap::solve(static_cast<int32_t>(row_label.size()), static_cast<int32_t>(col_label.size()),
                                         cand, std::vector<double>(row_label.size(), 0.0),
                                         std::vector<double>(col_label.size(), 0.0));
    double iou_sum = 0;
    for (size_t r = 0; r < row_label.size(); ++r) {
        if (a.row_to_col[r] < 0) continue;
        const int32_t p = row_label[r], tl = col_label[static_cast<size_t>(a.row_to_col[r])];
        m.pred_to_true[static_cast<size_t>(p)] = tl;
        m.tp++;
        iou_sum += iou_of[(static_cast<uint64_t>(p) << 32) | static_cast<uint32_t>(tl)];
    }
    m.fp = m.n_pred - m.tp;
    m.fn = m.n_true - m.tp;
    const double tp = static_cast<double>(m.tp);
    m.precision = ratio(tp, static_cast<double>(m.n_pred));
    m.recall = ratio(tp, static_cast<double>(m.n_true));
    m.f1 = ratio(2 * tp, static_cast<double>(m.n_pred + m.n_true));
    const int64_t den = m.tp + m.fp + m.fn;
    m.ap = den ? tp / static_cast<double>(den) : std::numeric_limits<double>::quiet_NaN();
    m.mean_matched_iou = m.tp ? iou_sum / tp : std::numeric_limits<double>::quiet_NaN();
    return m;
}

} // namespace

InstanceMatch match_instances(const Components& pred, const Components& truth, double iou_threshold) {
    return match_instances(pred, truth, std::vector<double>{iou_threshold}).front();
}

std::vector<InstanceMatch> match_instances(const Components& pred, const Components& truth,
                                           const std::vector<double>& iou_thresholds) {
    if (iou_thresholds.empty()) throw std::invalid_argument("seg: no IoU thresholds");
    const std::vector<Overlap> ov = overlaps(pred, truth);
    const std::vector<int64_t> pa = areas(pred), ta = areas(truth);
    std::vector<InstanceMatch> out;
    for (const double t : iou_thresholds) out.push_back(match_from(ov, pa, ta, t));
    return out;
}

std::vector<double> dsb_thresholds() {
    std::vector<double> t;
    for (int k = 0; k < 10; ++k) t.push_back(0.5 + 0.05 * k);
    return t;
}

double mean_ap(const std::vector<InstanceMatch>& per_threshold) {
    if (per_threshold.empty()) return std::numeric_limits<double>::quiet_NaN();
    double s = 0;
    for (const InstanceMatch& m : per_threshold) s += m.ap;
    return s / static_cast<double>(per_threshold.size());
}

} // namespace spotflow::seg

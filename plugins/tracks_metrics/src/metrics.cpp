#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "spotflow_tables/frame_matching.hpp"
#include "spotflow_tables/grid.hpp"
#include "spotflow_tracks/challenge_score.hpp"

namespace tracks_metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Point {
    int64_t frame;
    double x, y;
    size_t row;
};

double mean(const std::vector<double>& v) {
    double s = 0;
    int64_t n = 0;
    for (const double x : v)
        if (std::isfinite(x)) s += x, ++n;
    return n ? s / static_cast<double>(n) : kNaN;
}

double sd(const std::vector<double>& v) { // population sd of the finite values
    const double m = mean(v);
    double ss = 0;
    int64_t n = 0;
    for (const double x : v)
        if (std::isfinite(x)) ss += (x - m) * (x - m), ++n;
    return n ? std::sqrt(ss / static_cast<double>(n)) : kNaN;
}

// Least-squares slope and intercept of y on x.
std::pair<double, double> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
    const double den = n * sxx - sx * sx;
    if (den == 0) return {kNaN, kNaN};
    const double slope = (n * sxy - sx * sy) / den;
    return {slope, (sy - slope * sx) / n};
}

std::vector<double> column_or_nan(const spotflow::tables::TableAccumulator& t, const std::string& name) {
    if (!t.has(name)) return std::vector<double>(static_cast<size_t>(t.rows()), kNaN);
    try {
        return t.doubles(name);
    } catch (const std::invalid_argument&) {
        throw std::invalid_argument("tracks: column '" + name + "' holds text, not numbers");
    }
}

std::vector<int64_t> required_ints(const spotflow::tables::TableAccumulator& t, const std::string& name) {
    if (!t.has(name)) throw std::invalid_argument("tracks: no column '" + name + "'");
    return t.ints(name);
}

} // namespace

const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = {
        "length", "span", "gap_count", "gap_fraction", "interpolated_fraction",
        "photons_mean", "photons_sd", "uncertainty_mean", "uncertainty_sd", "snr_mean",
        "detection_probability_mean", "step_mean", "step_sd", "msd_alpha", "msd_diffusion",
        "straightness", "local_density", "border_distance", "link_probability_mean", "link_cost_mean",
        "break_distance_before", "break_distance_after", "fragment_share", "step_max", "photons_change"};
    return names;
}

std::vector<TrackMetrics> compute_metrics(const spotflow::tables::TableAccumulator& t, const Settings& s) {
    std::vector<TrackMetrics> out;
    if (t.rows() == 0) return out;
    const std::vector<int64_t> frame = required_ints(t, "frame");
    if (!t.has("x") || !t.has("y") || !t.has("track_id"))
        throw std::invalid_argument(std::string("tracks: no column '") + (!t.has("x") ? "x" : !t.has("y") ? "y" : "track_id") + "'");
    const std::vector<double> x = t.doubles("x"), y = t.doubles("y"), tid_d = t.doubles("track_id");
    const std::vector<double> photons = column_or_nan(t, "photons"), background = column_or_nan(t, "background"),
                              sigma = column_or_nan(t, "sigma"), unc = column_or_nan(t, "uncertainty"),
                              prob = column_or_nan(t, "probability"), interp = column_or_nan(t, "interpolated"),
                              lprob = column_or_nan(t, "link_probability"), lcost = column_or_nan(t, "link_cost");

    // Rows per track; the image extent for the border distance.
    std::map<int64_t, std::vector<size_t>> rows_of;
    double max_x = 0, max_y = 0;
    std::vector<spotflow::tables::FrameGrid::Point> all;
    for (size_t r = 0; r < frame.size(); ++r) {
        if (std::isnan(tid_d[r])) continue;
        const auto id = static_cast<int64_t>(tid_d[r]);
        rows_of[id].push_back(r);
        if (std::isfinite(x[r]) && std::isfinite(y[r])) {
            max_x = std::max(max_x, x[r]);
            max_y = std::max(max_y, y[r]);
            all.push_back({frame[r], x[r], y[r], id});
        }
    }
    const double width = s.width > 0 ? s.width : std::ceil(max_x + 0.5);
    const double height = s.height > 0 ? s.height : std::ceil(max_y + 0.5);
    const spotflow::tables::FrameGrid grid(all, s.density_radius_px);

    // Each track's first and last real point and length, for the break metrics.
    struct End {
        int64_t id, first_frame, last_frame;
        double x0, y0, x1, y1;
        double length;
    };
    std::vector<End> ends;
    for (auto& [id, rows] : rows_of) {
        std::sort(rows.begin(), rows.end(), [&](size_t a, size_t b) { return frame[a] < frame[b]; });
        End e{id, -1, -1, 0, 0, 0, 0, 0};
        for (const size_t r : rows) {
            if ((std::isfinite(interp[r]) && interp[r] != 0) || !std::isfinite(x[r]) || !std::isfinite(y[r])) continue;
            if (e.first_frame < 0) e.first_frame = frame[r], e.x0 = x[r], e.y0 = y[r];
            e.last_frame = frame[r], e.x1 = x[r], e.y1 = y[r];
            ++e.length;
        }
        if (e.first_frame >= 0) ends.push_back(e);
    }

    for (auto& [id, rows] : rows_of) {
        for (size_t i = 1; i < rows.size(); ++i)
            if (frame[rows[i]] == frame[rows[i - 1]])
                throw std::invalid_argument("tracks: track " + std::to_string(id) + " has two points in frame " +
                                            std::to_string(frame[rows[i]]));
        std::vector<Point> pts; // real points: a position, not interpolated
        int64_t n_interp = 0;
        for (const size_t r : rows) {
            const bool is_interp = std::isfinite(interp[r]) && interp[r] != 0;
            n_interp += is_interp;
            if (!is_interp && std::isfinite(x[r]) && std::isfinite(y[r])) pts.push_back({frame[r], x[r], y[r], r});
        }
        TrackMetrics m{id, std::vector<double>(metric_names().size(), kNaN)};
        auto set = [&](const char* name, double v) {
            const auto& n = metric_names();
            m.values[static_cast<size_t>(std::find(n.begin(), n.end(), name) - n.begin())] = v;
        };
        set("interpolated_fraction", static_cast<double>(n_interp) / static_cast<double>(rows.size()));
        set("length", static_cast<double>(pts.size()));
        if (pts.empty()) {
            out.push_back(std::move(m));
            continue;
        }
        const double span = static_cast<double>(pts.back().frame - pts.front().frame + 1);
        int64_t gaps = 0;
        std::vector<double> steps;
        double path = 0;
        for (size_t i = 1; i < pts.size(); ++i) {
            const double d = std::hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y);
            path += d;
            if (pts[i].frame - pts[i - 1].frame > 1) ++gaps;
            else steps.push_back(d);
        }
        set("span", span);
        set("gap_count", static_cast<double>(gaps));
        set("gap_fraction", 1.0 - static_cast<double>(pts.size()) / span);
        std::vector<double> ph, un, snr, pr, lp, lc;
        double min_border = std::numeric_limits<double>::infinity(), density = 0;
        for (const Point& p : pts) {
            ph.push_back(photons[p.row]);
            un.push_back(unc[p.row]);
            pr.push_back(prob[p.row]);
            lp.push_back(lprob[p.row]);
            lc.push_back(lcost[p.row]);
            // Shot-noise SNR of a Gaussian spot: N / sqrt(N + 4 pi s^2 b).
            const double n = photons[p.row], b = background[p.row], sg = sigma[p.row];
            if (std::isfinite(n) && std::isfinite(b) && std::isfinite(sg) && n > 0)
                snr.push_back(n / std::sqrt(n + 4 * M_PI * sg * sg * std::max(0.0, b)));
            min_border = std::min({min_border, p.x + 0.5, p.y + 0.5, width - 0.5 - p.x, height - 0.5 - p.y});
            int64_t near = 0;
            grid.for_each_within(p.frame, p.x, p.y, s.density_radius_px,
                                 [&](const spotflow::tables::FrameGrid::Point& q, double) { near += q.ref != id; });
            density += static_cast<double>(near);
        }
        set("photons_mean", mean(ph));
        set("photons_sd", sd(ph));
        set("uncertainty_mean", mean(un));
        set("uncertainty_sd", sd(un));
        set("snr_mean", mean(snr));
        set("detection_probability_mean", mean(pr));
        set("link_probability_mean", mean(lp));
        set("link_cost_mean", mean(lc));
        set("step_mean", steps.empty() ? kNaN : mean(steps));
        // The largest jump: displacement between consecutive real points over
        // the square root of their frame difference (Brownian scaling).
        double jump = kNaN;
        for (size_t i = 1; i < pts.size(); ++i) {
            const double d = std::hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y) /
                             std::sqrt(static_cast<double>(pts[i].frame - pts[i - 1].frame));
            jump = std::isnan(jump) ? d : std::max(jump, d);
        }
        set("step_max", jump);
        // A change of brightness (a track hopping to another punctum): the
        // largest standardised difference of mean photons before and after
        // a split, max_k |mean(N[:k]) - mean(N[k:])| sqrt(k (n - k) / n) / sd(N).
        {
            std::vector<double> v;
            for (const double n : ph)
                if (std::isfinite(n)) v.push_back(n);
            const double s_all = sd(v);
            if (v.size() >= 4 && s_all > 0) {
                double total = 0, left = 0, best = 0;
                for (const double n : v) total += n;
                const double nn = static_cast<double>(v.size());
                for (size_t k = 1; k + 1 < v.size(); ++k) {
                    left += v[k - 1];
                    const double kk = static_cast<double>(k);
                    const double diff = left / kk - (total - left) / (nn - kk);
                    best = std::max(best, std::abs(diff) * std::sqrt(kk * (nn - kk) / nn) / s_all);
                }
                set("photons_change", best);
            }
        }
        set("step_sd", steps.empty() ? kNaN : sd(steps));
        set("straightness", path > 0 ? std::hypot(pts.back().x - pts.front().x, pts.back().y - pts.front().y) / path : kNaN);
        set("local_density", density / static_cast<double>(pts.size()));
        set("border_distance", min_border);

        // Breaks: the nearest end of another track within break_frames before
        // this one starts (and start after it ends), capped at break_radius_px;
        // fragment_share = length / (length + the lengths of those neighbours).
        double before = s.break_radius_px, after = s.break_radius_px, neighbours = 0;
        const Point &p0 = pts.front(), &p1 = pts.back();
        for (const End& e : ends) {
            if (e.id == id) continue;
            if (e.last_frame < p0.frame && p0.frame - e.last_frame <= s.break_frames) {
                const double d = std::hypot(e.x1 - p0.x, e.y1 - p0.y);
                if (d < s.break_radius_px) before = std::min(before, d), neighbours += e.length;
            }
            if (e.first_frame > p1.frame && e.first_frame - p1.frame <= s.break_frames) {
                const double d = std::hypot(e.x0 - p1.x, e.y0 - p1.y);
                if (d < s.break_radius_px) after = std::min(after, d), neighbours += e.length;
            }
        }
        set("break_distance_before", before);
        set("break_distance_after", after);
        set("fragment_share", static_cast<double>(pts.size()) / (static_cast<double>(pts.size()) + neighbours));

        // MSD over every pair of real points tau frames apart.
        std::map<int64_t, size_t> at;
        for (size_t i = 0; i < pts.size(); ++i) at[pts[i].frame] = i;
        std::vector<double> lag, msd;
        for (int tau = 1; tau <= s.max_lag; ++tau) {
            double sum = 0;
            int64_t n = 0;
            for (const Point& p : pts) {
                const auto it = at.find(p.frame + tau);
                if (it == at.end()) continue;
                const Point& q = pts[it->second];
                sum += (q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y);
                ++n;
            }
            if (n > 0) lag.push_back(tau), msd.push_back(sum / static_cast<double>(n));
        }
        // D: MSD = 4 D tau + offset over the first lags (2-D); px^2 per frame.
        std::vector<double> dl, dm;
        for (size_t i = 0; i < lag.size() && lag[i] <= s.diffusion_lags; ++i) dl.push_back(lag[i]), dm.push_back(msd[i]);
        if (dl.size() >= 2) set("msd_diffusion", fit_line(dl, dm).first / 4);
        // alpha: the slope of log MSD on log tau (MSD ~ tau^alpha).
        std::vector<double> ll, lm;
        for (size_t i = 0; i < lag.size(); ++i)
            if (msd[i] > 0) ll.push_back(std::log(lag[i])), lm.push_back(std::log(msd[i]));
        if (ll.size() >= 3) set("msd_alpha", fit_line(ll, lm).first);
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<TrackLabel> label_tracks(const spotflow::tables::TableAccumulator& tracks,
                                     const spotflow::tables::TableAccumulator& truth, double gate,
                                     double min_fraction, const std::string& rule) {
    namespace st = spotflow::tracks;
    auto rows_of = [](const spotflow::tables::TableAccumulator& t, const std::string& what, bool real_only) {
        std::vector<st::TrackRow> rows;
        if (t.rows() == 0) return rows;
        for (const char* c : {"frame", "x", "y", "track_id"})
            if (!t.has(c)) throw std::invalid_argument(what + ": no column '" + c + "'");
        const auto f = t.ints("frame");
        const auto x = t.doubles("x"), y = t.doubles("y"), id = t.doubles("track_id");
        const auto interp = t.has("interpolated") ? t.doubles("interpolated") : std::vector<double>(f.size(), 0);
        for (size_t r = 0; r < f.size(); ++r) {
            if (std::isnan(id[r]) || std::isnan(x[r]) || std::isnan(y[r])) continue;
            if (real_only && std::isfinite(interp[r]) && interp[r] != 0) continue;
            rows.push_back({f[r], x[r], y[r], static_cast<int64_t>(id[r])});
        }
        return rows;
    };
    const std::vector<st::TrackRow> est_rows = rows_of(tracks, "tracks", true), gt_rows = rows_of(truth, "truth", false);
    const st::TrackSet est = st::build_tracks(est_rows, "tracks"), gt = st::build_tracks(gt_rows, "truth");

    // Per real point of the tracks, the true track it matches in its frame.
    std::vector<int64_t> ef, gf;
    std::vector<double> ex, ey, gx, gy;
    for (const auto& r : est_rows) ef.push_back(r.frame), ex.push_back(r.x), ey.push_back(r.y);
    for (const auto& r : gt_rows) gf.push_back(r.frame), gx.push_back(r.x), gy.push_back(r.y);
    const std::vector<int64_t> match = spotflow::tables::match_by_frame({ef, ex, ey}, {gf, gx, gy}, gate);
    std::map<int64_t, std::map<int64_t, int64_t>> hits; // track -> true track -> points
    std::map<int64_t, int64_t> points;
    for (size_t i = 0; i < est_rows.size(); ++i) {
        ++points[est_rows[i].track_id];
        if (match[i] >= 0) ++hits[est_rows[i].track_id][gt_rows[static_cast<size_t>(match[i])].track_id];
    }
    std::map<int64_t, int64_t> paired_with; // track -> true track
    if (!gt.tracks.empty() && !est.tracks.empty()) {
        const st::ChallengeScore s = st::score_challenge(gt.tracks, est.tracks, gate);
        for (size_t g = 0; g < s.pairing.size(); ++g)
            if (s.pairing[g] >= 0) paired_with[est.tracks[static_cast<size_t>(s.pairing[g])].id] = gt.tracks[g].id;
    }
    std::vector<TrackLabel> out;
    for (const auto& [id, n] : points) {
        TrackLabel l{id, "bad", 0.0, -1};
        const auto& h = hits[id];
        if (rule == "paired") {
            const auto p = paired_with.find(id);
            if (p != paired_with.end()) {
                l.truth_track_id = p->second;
                const auto it = h.find(p->second);
                l.matched_fraction = it == h.end() ? 0.0 : static_cast<double>(it->second) / static_cast<double>(n);
            }
        } else {
            for (const auto& [g, k] : h) {
                const double f = static_cast<double>(k) / static_cast<double>(n);
                if (f > l.matched_fraction) l.matched_fraction = f, l.truth_track_id = g;
            }
        }
        if (l.truth_track_id >= 0 && l.matched_fraction >= min_fraction) l.label = "good";
        out.push_back(l);
    }
    return out;
}

} // namespace tracks_metrics

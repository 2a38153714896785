#include "importance.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "spotflow_plot/plot.hpp"

namespace curation {

std::vector<Importance> permutation_importance(const Pipeline& p, const Matrix& x, const std::vector<int>& y,
                                               int repeats, uint64_t seed) {
    const int k = static_cast<int>(p.classes.size());
    const double base = score(y, argmax_rows(p.predict_proba(x)), k).balanced_accuracy;
    std::vector<Importance> out;
    std::mt19937_64 rng(mix(seed, 3));
    for (size_t c = 0; c < x.cols; ++c) {
        std::vector<double> drops;
        for (int r = 0; r < repeats; ++r) {
            Matrix shuffled = x;
            std::vector<size_t> perm(x.rows);
            std::iota(perm.begin(), perm.end(), 0);
            std::shuffle(perm.begin(), perm.end(), rng);
            for (size_t i = 0; i < x.rows; ++i) shuffled.at(i, c) = x.at(perm[i], c);
            drops.push_back(base - score(y, argmax_rows(p.predict_proba(shuffled)), k).balanced_accuracy);
        }
        double m = 0, ss = 0;
        for (const double d : drops) m += d;
        m /= static_cast<double>(drops.size());
        for (const double d : drops) ss += (d - m) * (d - m);
        out.push_back({p.metric_names[c], m, std::sqrt(ss / static_cast<double>(drops.size()))});
    }
    std::stable_sort(out.begin(), out.end(), [](const Importance& a, const Importance& b) { return a.mean > b.mean; });
    return out;
}

void draw_importance(const std::string& path, const std::vector<Importance>& imp, const std::string& title) {
    namespace plot = spotflow::plot;
    const int n = static_cast<int>(imp.size());
    plot::Figure fig(std::max(1000, 70 * n + 300), 600, 1, 1, title);
    std::vector<std::string> names;
    plot::Series s{"drop in balanced accuracy (mean of shuffles; bars: sd)", {}, {}};
    for (const auto& i : imp) {
        names.push_back(i.metric);
        s.y.push_back(i.mean);
        s.yerr.push_back(i.sd);
    }
    plot::Axes axes{"Permutation importance on the test split", "", "importance", std::nullopt, std::nullopt, true};
    fig.bars(0, axes, names, {s});
    fig.save_png(path);
}

} // namespace curation

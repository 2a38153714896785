#include "mle_fit.hpp"

#include <algorithm>
#include <cmath>

namespace detect_wavelet {
namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kInvSqrt2Pi = 0.3989422804014327;

// Per-pixel integrals along one axis and their derivatives with respect to
// the centre and to sigma.
struct Axis {
    std::vector<double> e, de_dc, de_ds;
    void compute(double c, double s, int first, int n) {
        e.resize(static_cast<size_t>(n));
        de_dc.resize(static_cast<size_t>(n));
        de_ds.resize(static_cast<size_t>(n));
        const double inv = 1.0 / (kSqrt2 * s);
        for (int i = 0; i < n; ++i) {
            const double a = first + i - c - 0.5, b = first + i - c + 0.5;
            const double ga = std::exp(-a * a / (2 * s * s)), gb = std::exp(-b * b / (2 * s * s));
            e[static_cast<size_t>(i)] = 0.5 * (std::erf(b * inv) - std::erf(a * inv));
            de_dc[static_cast<size_t>(i)] = kInvSqrt2Pi / s * (ga - gb);
            de_ds[static_cast<size_t>(i)] = kInvSqrt2Pi / (s * s) * (a * ga - b * gb);
        }
    }
};

// Dense symmetric matrix, row-major.
struct Matrix {
    int n = 0;
    std::vector<double> a;
    explicit Matrix(int size = 0) : n(size), a(static_cast<size_t>(size * size), 0.0) {}
    double& operator()(int i, int j) { return a[static_cast<size_t>(i * n + j)]; }
    double operator()(int i, int j) const { return a[static_cast<size_t>(i * n + j)]; }
};

// Solves A d = g in place by Cholesky; false if A is not positive definite.
bool solve(Matrix a, std::vector<double>& d) {
    const int k = a.n;
    for (int i = 0; i < k; ++i)
        for (int j = 0; j <= i; ++j) {
            double s = a(i, j);
            for (int p = 0; p < j; ++p) s -= a(i, p) * a(j, p);
            if (i == j) {
                if (!(s > 0)) return false;
                a(i, i) = std::sqrt(s);
            } else {
                a(i, j) = s / a(j, j);
            }
        }
    for (int i = 0; i < k; ++i) {
        double s = d[static_cast<size_t>(i)];
        for (int p = 0; p < i; ++p) s -= a(i, p) * d[static_cast<size_t>(p)];
        d[static_cast<size_t>(i)] = s / a(i, i);
    }
    for (int i = k - 1; i >= 0; --i) {
        double s = d[static_cast<size_t>(i)];
        for (int p = i + 1; p < k; ++p) s -= a(p, i) * d[static_cast<size_t>(p)];
        d[static_cast<size_t>(i)] = s / a(i, i);
    }
    return true;
}

// Parameters: [x, y, N, b, (sigma)] of the central spot and the background,
// then [x, y, N] per neighbour.
struct Params {
    std::vector<double> v;
    int spots = 1;
    bool sigma = false;
    int offset(int spot) const { return spot == 0 ? 0 : (sigma ? 5 : 4) + 3 * (spot - 1); }
    double& x(int k) { return v[static_cast<size_t>(offset(k))]; }
    double& y(int k) { return v[static_cast<size_t>(offset(k) + 1)]; }
    double& n(int k) { return v[static_cast<size_t>(offset(k) == 0 ? 2 : offset(k) + 2)]; }
    double& b() { return v[3]; }
};

} // namespace

double pixel_fraction(double c, double s, int k) {
    const double inv = 1.0 / (kSqrt2 * s);
    return 0.5 * (std::erf((k - c + 0.5) * inv) - std::erf((k - c - 0.5) * inv));
}

namespace {

// pair: nullptr fits one central spot; otherwise the central spot is two
// emitters started at (*pair)[0] and (*pair)[1] (spot 0 and spot 1), and the
// neighbours follow. Fills fits[0] (and fits[1]).
void fit_window(const Image& img, int px, int py, const std::vector<std::pair<int, int>>& neighbours,
                const std::pair<double, double>* pair, const FitOptions& o, Fit* fits) {
    const int x0 = std::max(0, px - o.half_width), x1 = std::min(img.width - 1, px + o.half_width);
    const int y0 = std::max(0, py - o.half_width), y1 = std::min(img.height - 1, py + o.half_width);
    const int nx = x1 - x0 + 1, ny = y1 - y0 + 1;
    const double rv = o.read_variance;
    const int central = pair ? 2 : 1;
    const int spots = central + static_cast<int>(neighbours.size());
    const bool fit_sigma = o.fit_sigma && spots == 1; // one shared width is ill-posed with neighbours
    Params t{std::vector<double>(static_cast<size_t>((fit_sigma ? 5 : 4) + 3 * (spots - 1)), 0.0), spots, fit_sigma};
    const int k = static_cast<int>(t.v.size());
    double sigma = o.sigma;

    std::vector<double> roi(static_cast<size_t>(nx * ny));
    for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) roi[static_cast<size_t>(j * nx + i)] = std::max(0.f, img.at(x0 + i, y0 + j));
    std::vector<double> sorted = roi;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 4), sorted.end());
    t.b() = std::max(1e-3, sorted[sorted.size() / 4]);

    // Start: the centre from the centroid of the excess in the 3 x 3 around
    // each peak, photons from the excess in a 5 x 5.
    auto start = [&](int k_spot, int cx, int cy) {
        double sum = 0, sx = 0, sy = 0, total = 0;
        for (int j = cy - 2; j <= cy + 2; ++j)
            for (int i = cx - 2; i <= cx + 2; ++i) {
                if (i < 0 || j < 0 || i >= img.width || j >= img.height) continue;
                const double v = std::max(0.0, static_cast<double>(img.at(i, j)) - t.b());
                total += v;
                if (std::abs(i - cx) <= 1 && std::abs(j - cy) <= 1) sum += v, sx += v * i, sy += v * j;
            }
        t.x(k_spot) = sum > 0 ? sx / sum : cx;
        t.y(k_spot) = sum > 0 ? sy / sum : cy;
        t.n(k_spot) = std::max(total, 1.0);
    };
    start(0, px, py);
    if (pair) {
        const double total = t.n(0);
        for (int m = 0; m < 2; ++m) {
            t.x(m) = pair[m].first;
            t.y(m) = pair[m].second;
            t.n(m) = 0.5 * total;
        }
    }
    for (int m = 0; m < spots - central; ++m)
        start(m + central, neighbours[static_cast<size_t>(m)].first, neighbours[static_cast<size_t>(m)].second);
    if (fit_sigma) t.v[4] = sigma;

    std::vector<Axis> ax(static_cast<size_t>(spots)), ay(static_cast<size_t>(spots));
    auto evaluate = [&](Params& p, Matrix* info, std::vector<double>* grad) {
        const double s = p.sigma ? p.v[4] : sigma;
        for (int m = 0; m < spots; ++m) {
            ax[static_cast<size_t>(m)].compute(p.x(m), s, x0, nx);
            ay[static_cast<size_t>(m)].compute(p.y(m), s, y0, ny);
        }
        double ll = 0;
        if (info) *info = Matrix(k);
        if (grad) grad->assign(static_cast<size_t>(k), 0.0);
        std::vector<double> dmu(static_cast<size_t>(k));
        for (int j = 0; j < ny; ++j) {
            for (int i = 0; i < nx; ++i) {
                double mu = p.b() + rv;
                std::fill(dmu.begin(), dmu.end(), 0.0);
                dmu[3] = 1.0;
                for (int m = 0; m < spots; ++m) {
                    const Axis& a = ax[static_cast<size_t>(m)];
                    const Axis& b = ay[static_cast<size_t>(m)];
                    const double ex = a.e[static_cast<size_t>(i)], ey = b.e[static_cast<size_t>(j)];
                    const double nm = p.n(m);
                    mu += nm * ex * ey;
                    if (!info) continue;
                    const int off = p.offset(m);
                    dmu[static_cast<size_t>(off)] = nm * a.de_dc[static_cast<size_t>(i)] * ey;
                    dmu[static_cast<size_t>(off + 1)] = nm * ex * b.de_dc[static_cast<size_t>(j)];
                    dmu[static_cast<size_t>(off == 0 ? 2 : off + 2)] = ex * ey;
                    if (p.sigma)
                        dmu[4] = nm * (a.de_ds[static_cast<size_t>(i)] * ey + ex * b.de_ds[static_cast<size_t>(j)]);
                }
                const double d = roi[static_cast<size_t>(j * nx + i)] + rv;
                ll += d * std::log(mu) - mu;
                if (!info) continue;
                const double r = d / mu - 1.0;
                for (int q = 0; q < k; ++q) {
                    if (dmu[static_cast<size_t>(q)] == 0) continue;
                    (*grad)[static_cast<size_t>(q)] += r * dmu[static_cast<size_t>(q)];
                    for (int w = 0; w <= q; ++w) (*info)(q, w) += dmu[static_cast<size_t>(q)] * dmu[static_cast<size_t>(w)] / mu;
                }
            }
        }
        if (info)
            for (int q = 0; q < k; ++q)
                for (int w = q + 1; w < k; ++w) (*info)(q, w) = (*info)(w, q);
        return ll;
    };

    // Levenberg–Marquardt on the Poisson log-likelihood with the Fisher
    // information as the curvature (Fisher scoring, damped).
    Fit f;
    double lambda = 1e-3;
    Matrix info;
    std::vector<double> grad;
    double ll = evaluate(t, &info, &grad);
    for (f.iterations = 0; f.iterations < o.max_iterations; ++f.iterations) {
        Matrix a = info;
        for (int q = 0; q < k; ++q) a(q, q) *= 1 + lambda;
        std::vector<double> step = grad;
        if (!solve(a, step)) break;
        Params c = t;
        for (int q = 0; q < k; ++q) c.v[static_cast<size_t>(q)] += step[static_cast<size_t>(q)];
        for (int m = 0; m < spots; ++m) c.n(m) = std::max(1e-3, c.n(m));
        c.b() = std::max(1e-6, c.b());
        if (c.sigma) c.v[4] = std::clamp(c.v[4], 0.3, 5.0 * o.sigma);
        Matrix info_c;
        std::vector<double> grad_c;
        const double ll_c = evaluate(c, &info_c, &grad_c);
        if (ll_c >= ll) {
            bool small = true;
            for (int m = 0; m < central; ++m)
                small = small && std::fabs(c.x(m) - t.x(m)) < 1e-4 && std::fabs(c.y(m) - t.y(m)) < 1e-4;
            t = c;
            ll = ll_c;
            info = info_c;
            grad = grad_c;
            lambda = std::max(lambda / 10, 1e-7);
            if (small) {
                f.converged = true;
                break;
            }
        } else {
            lambda *= 10;
            if (lambda > 1e6) {
                f.converged = true; // no ascent direction left: at the optimum to precision
                break;
            }
        }
    }
    if (f.iterations == o.max_iterations) f.converged = true; // close enough; the ROI check below decides

    // The window's deviance 2 sum[d ln(d / mu) - (d - mu)] at the fit: the
    // goodness of fit a split is judged by.
    double deviance = 0;
    {
        const double s = t.sigma ? t.v[4] : sigma;
        for (int m = 0; m < spots; ++m) {
            ax[static_cast<size_t>(m)].compute(t.x(m), s, x0, nx);
            ay[static_cast<size_t>(m)].compute(t.y(m), s, y0, ny);
        }
        for (int j = 0; j < ny; ++j)
            for (int i = 0; i < nx; ++i) {
                double mu = t.b() + rv;
                for (int m = 0; m < spots; ++m)
                    mu += t.n(m) * ax[static_cast<size_t>(m)].e[static_cast<size_t>(i)] *
                          ay[static_cast<size_t>(m)].e[static_cast<size_t>(j)];
                const double d = roi[static_cast<size_t>(j * nx + i)] + rv;
                deviance += 2 * ((d > 0 ? d * std::log(d / mu) : 0) - (d - mu));
            }
    }

    // The null hypothesis: no central spot. The neighbours keep their fitted
    // light; the background is refitted by Newton steps on the Poisson
    // log-likelihood (concave in b).
    double null_ll = 0;
    {
        std::vector<double> rest(static_cast<size_t>(nx * ny), 0.0);
        for (int m = central; m < spots; ++m)
            for (int j = 0; j < ny; ++j)
                for (int i = 0; i < nx; ++i)
                    rest[static_cast<size_t>(j * nx + i)] += t.n(m) * ax[static_cast<size_t>(m)].e[static_cast<size_t>(i)] *
                                                             ay[static_cast<size_t>(m)].e[static_cast<size_t>(j)];
        double b0 = 0;
        for (size_t q = 0; q < roi.size(); ++q) b0 += roi[q] - rest[q];
        b0 = std::max(1e-6, b0 / static_cast<double>(roi.size()));
        for (int it = 0; it < 20; ++it) {
            double g = 0, h = 0;
            for (size_t q = 0; q < roi.size(); ++q) {
                const double mu = b0 + rv + rest[q], d = roi[q] + rv;
                g += d / mu - 1, h += d / (mu * mu);
            }
            if (!(h > 0)) break;
            const double nb = std::max(1e-6, b0 + g / h);
            const bool done = std::fabs(nb - b0) < 1e-6 * (1 + b0);
            b0 = nb;
            if (done) break;
        }
        for (size_t q = 0; q < roi.size(); ++q) {
            const double mu = b0 + rv + rest[q], d = roi[q] + rv;
            null_ll += d * std::log(mu) - mu;
        }
    }

    for (int m = 0; m < central; ++m) {
        Fit& out = fits[m];
        out = f;
        out.null_log_likelihood = null_ll;
        out.log_likelihood = ll;
        out.deviance = deviance;
        out.pixels = nx * ny;
        out.x = t.x(m);
        out.y = t.y(m);
        out.photons = t.n(m);
        out.background = t.b();
        out.sigma = t.sigma ? t.v[4] : sigma;
        if (out.x < x0 - 0.5 || out.x > x1 + 0.5 || out.y < y0 - 0.5 || out.y > y1 + 0.5) out.converged = false;

        // CRLB: the diagonal of the inverse Fisher information at the fit.
        const int off = t.offset(m);
        const int index[4] = {off, off + 1, off == 0 ? 2 : off + 2, 3};
        double* bound[4] = {&out.crlb_x, &out.crlb_y, &out.crlb_photons, &out.crlb_background};
        for (int q = 0; q < 4; ++q) {
            std::vector<double> e(static_cast<size_t>(k), 0.0);
            e[static_cast<size_t>(index[q])] = 1;
            if (!solve(info, e)) {
                out.converged = false;
                break;
            }
            *bound[q] = std::sqrt(std::max(e[static_cast<size_t>(index[q])], 0.0));
        }
    }
}

} // namespace

Fit fit_spot(const Image& img, int px, int py, const std::vector<std::pair<int, int>>& neighbours, const FitOptions& o) {
    Fit f;
    fit_window(img, px, py, neighbours, nullptr, o, &f);
    return f;
}

std::pair<Fit, Fit> fit_pair(const Image& img, int px, int py, const std::vector<std::pair<int, int>>& neighbours,
                             std::pair<double, double> a, std::pair<double, double> b, const FitOptions& o) {
    const std::pair<double, double> starts[2] = {a, b};
    Fit f[2];
    fit_window(img, px, py, neighbours, starts, o, f);
    return {f[0], f[1]};
}

} // namespace detect_wavelet

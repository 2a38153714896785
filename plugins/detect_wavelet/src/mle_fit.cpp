#include "mle_fit.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace detect_wavelet {
namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kInvSqrt2Pi = 0.3989422804014327;

// Per-pixel integrals along one axis and their derivatives with respect to
// the centre and to sigma.
struct Axis {
    std::vector<double> e, de_dc, de_ds;
    void compute(double c, double s, int first, int n) {
        e.resize(n);
        de_dc.resize(n);
        de_ds.resize(n);
        const double inv = 1.0 / (kSqrt2 * s);
        for (int i = 0; i < n; ++i) {
            const double a = first + i - c - 0.5, b = first + i - c + 0.5;
            const double ga = std::exp(-a * a / (2 * s * s)), gb = std::exp(-b * b / (2 * s * s));
            e[i] = 0.5 * (std::erf(b * inv) - std::erf(a * inv));
            de_dc[i] = kInvSqrt2Pi / s * (ga - gb);
            de_ds[i] = kInvSqrt2Pi / (s * s) * (a * ga - b * gb);
        }
    }
};

// Solves the k x k system A d = g by Cholesky (A symmetric positive
// definite); false if it is not.
template <int K> bool solve(std::array<std::array<double, K>, K> a, std::array<double, K>& d, int k) {
    for (int i = 0; i < k; ++i) {
        for (int j = 0; j <= i; ++j) {
            double s = a[i][j];
            for (int p = 0; p < j; ++p) s -= a[i][p] * a[j][p];
            if (i == j) {
                if (!(s > 0)) return false;
                a[i][i] = std::sqrt(s);
            } else {
                a[i][j] = s / a[j][j];
            }
        }
    }
    for (int i = 0; i < k; ++i) {
        double s = d[i];
        for (int p = 0; p < i; ++p) s -= a[i][p] * d[p];
        d[i] = s / a[i][i];
    }
    for (int i = k - 1; i >= 0; --i) {
        double s = d[i];
        for (int p = i + 1; p < k; ++p) s -= a[p][i] * d[p];
        d[i] = s / a[i][i];
    }
    return true;
}

} // namespace

double pixel_fraction(double c, double s, int k) {
    const double inv = 1.0 / (kSqrt2 * s);
    return 0.5 * (std::erf((k - c + 0.5) * inv) - std::erf((k - c - 0.5) * inv));
}

Fit fit_spot(const Image& img, int px, int py, const FitOptions& o) {
    const int x0 = std::max(0, px - o.half_width), x1 = std::min(img.width - 1, px + o.half_width);
    const int y0 = std::max(0, py - o.half_width), y1 = std::min(img.height - 1, py + o.half_width);
    const int nx = x1 - x0 + 1, ny = y1 - y0 + 1;
    const int k = o.fit_sigma ? 5 : 4; // x, y, N, b, [sigma]
    const double rv = o.read_variance;

    // Start: background from the ROI's lowest quartile, photons from the
    // excess, centre from the centroid of the excess.
    std::vector<double> roi(static_cast<size_t>(nx * ny));
    for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) roi[static_cast<size_t>(j * nx + i)] = std::max(0.f, img.at(x0 + i, y0 + j));
    std::vector<double> sorted = roi;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 4), sorted.end());
    double b = std::max(1e-3, sorted[sorted.size() / 4]);
    double sum = 0, sx = 0, sy = 0;
    for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) {
            const double v = std::max(0.0, roi[static_cast<size_t>(j * nx + i)] - b);
            sum += v;
            sx += v * (x0 + i);
            sy += v * (y0 + j);
        }
    Fit f;
    f.x = sum > 0 ? sx / sum : px;
    f.y = sum > 0 ? sy / sum : py;
    f.photons = std::max(sum, 1.0);
    f.background = b;
    f.sigma = o.sigma;

    Axis ax, ay;
    using Mat = std::array<std::array<double, 5>, 5>;
    auto evaluate = [&](const Fit& t, Mat* info, std::array<double, 5>* grad) {
        ax.compute(t.x, t.sigma, x0, nx);
        ay.compute(t.y, t.sigma, y0, ny);
        double ll = 0;
        if (info) *info = Mat{};
        if (grad) grad->fill(0);
        for (int j = 0; j < ny; ++j) {
            for (int i = 0; i < nx; ++i) {
                const double mu = t.background + t.photons * ax.e[i] * ay.e[j] + rv;
                const double d = roi[static_cast<size_t>(j * nx + i)] + rv;
                ll += d * std::log(mu) - mu;
                if (!info) continue;
                const double dmu[5] = {t.photons * ax.de_dc[i] * ay.e[j], t.photons * ax.e[i] * ay.de_dc[j],
                                       ax.e[i] * ay.e[j], 1.0,
                                       t.photons * (ax.de_ds[i] * ay.e[j] + ax.e[i] * ay.de_ds[j])};
                const double r = d / mu - 1.0;
                for (int p = 0; p < k; ++p) {
                    (*grad)[p] += r * dmu[p];
                    for (int q = 0; q <= p; ++q) (*info)[p][q] += dmu[p] * dmu[q] / mu;
                }
            }
        }
        if (info)
            for (int p = 0; p < k; ++p)
                for (int q = p + 1; q < k; ++q) (*info)[p][q] = (*info)[q][p];
        return ll;
    };

    // Levenberg–Marquardt on the Poisson log-likelihood with the Fisher
    // information as the curvature (Fisher scoring, damped).
    double lambda = 1e-3;
    Mat info;
    std::array<double, 5> grad;
    double ll = evaluate(f, &info, &grad);
    for (f.iterations = 0; f.iterations < o.max_iterations; ++f.iterations) {
        Mat a = info;
        for (int p = 0; p < k; ++p) a[p][p] *= 1 + lambda;
        std::array<double, 5> step = grad;
        if (!solve<5>(a, step, k)) break;
        Fit t = f;
        t.x += step[0];
        t.y += step[1];
        t.photons = std::max(1e-3, t.photons + step[2]);
        t.background = std::max(1e-6, t.background + step[3]);
        if (o.fit_sigma) t.sigma = std::clamp(t.sigma + step[4], 0.3, 5.0 * o.sigma);
        Mat info_t;
        std::array<double, 5> grad_t;
        const double ll_t = evaluate(t, &info_t, &grad_t);
        if (ll_t >= ll) {
            const bool small = std::fabs(step[0]) < 1e-4 && std::fabs(step[1]) < 1e-4;
            f = t;
            ll = ll_t;
            info = info_t;
            grad = grad_t;
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
    if (f.x < x0 - 0.5 || f.x > x1 + 0.5 || f.y < y0 - 0.5 || f.y > y1 + 0.5) f.converged = false;

    // CRLB: the diagonal of the inverse Fisher information at the fit.
    for (int p = 0; p < 2 + 2; ++p) {
        std::array<double, 5> e{};
        e[p] = 1;
        if (!solve<5>(info, e, k)) {
            f.converged = false;
            return f;
        }
        const double var = e[p];
        (p == 0 ? f.crlb_x : p == 1 ? f.crlb_y : p == 2 ? f.crlb_photons : f.crlb_background) = std::sqrt(std::max(var, 0.0));
    }
    return f;
}

} // namespace detect_wavelet

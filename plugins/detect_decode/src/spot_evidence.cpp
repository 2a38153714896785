#include "spot_evidence.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "spotflow_psf/crlb.hpp"

namespace detect_decode {

namespace {

using Vec = std::array<double, 5>; // x, y, photons, background, sigma

struct Window {
    int x0, x1, y0, y1;
};

Window window_of(const Frame& f, double x, double y, int hw) {
    const int px = static_cast<int>(std::lround(x)), py = static_cast<int>(std::lround(y));
    return {std::max(0, px - hw), std::min(f.width - 1, px + hw), std::max(0, py - hw), std::min(f.height - 1, py + hw)};
}

double model(const Vec& p, int x, int y) {
    return p[3] + p[2] * spotflow::psf::integrated_gaussian_1d(p[0], p[4], x) *
                      spotflow::psf::integrated_gaussian_1d(p[1], p[4], y);
}

double log_likelihood(const Frame& f, const Window& w, const Vec& p) {
    double ll = 0;
    for (int y = w.y0; y <= w.y1; ++y)
        for (int x = w.x0; x <= w.x1; ++x) {
            const double mu = std::max(model(p, x, y), 1e-9);
            ll += f.at(x, y) * std::log(mu) - mu;
        }
    return ll;
}

// Solves a 5 x 5 system in place (Gaussian elimination, partial pivoting).
bool solve(std::array<std::array<double, 5>, 5> a, Vec& b) {
    for (int c = 0; c < 5; ++c) {
        int piv = c;
        for (int r = c + 1; r < 5; ++r)
            if (std::abs(a[r][c]) > std::abs(a[piv][c])) piv = r;
        if (!(std::abs(a[piv][c]) > 1e-12)) return false;
        std::swap(a[c], a[piv]);
        std::swap(b[c], b[piv]);
        for (int r = c + 1; r < 5; ++r) {
            const double k = a[r][c] / a[c][c];
            for (int j = c; j < 5; ++j) a[r][j] -= k * a[c][j];
            b[r] -= k * b[c];
        }
    }
    for (int c = 4; c >= 0; --c) {
        for (int j = c + 1; j < 5; ++j) b[c] -= a[c][j] * b[j];
        b[c] /= a[c][c];
    }
    return true;
}

} // namespace

SpotFit fit_spot(const Frame& f, const Candidate& c, double sigma0, int hw) {
    SpotFit out;
    const Window w = window_of(f, c.x, c.y, hw);
    Vec p = {c.x, c.y, std::max(c.photons, 1.0), std::max(c.background, 0.1), sigma0};
    double ll = log_likelihood(f, w, p);
    double lambda = 1e-3;
    for (int it = 0; it < 40; ++it) {
        // Fisher scoring with Levenberg damping: (J^T W J + lambda diag) d =
        // J^T W (data - mu), W = 1 / mu, derivatives by central differences.
        std::array<std::array<double, 5>, 5> a{};
        Vec g{};
        const Vec h = {1e-4, 1e-4, 1e-4 * p[2], 1e-4 * p[3], 1e-4};
        for (int y = w.y0; y <= w.y1; ++y)
            for (int x = w.x0; x <= w.x1; ++x) {
                const double mu = std::max(model(p, x, y), 1e-9);
                Vec d;
                for (int k = 0; k < 5; ++k) {
                    Vec hi = p, lo = p;
                    hi[k] += h[k], lo[k] -= h[k];
                    d[k] = (model(hi, x, y) - model(lo, x, y)) / (2 * h[k]);
                }
                const double r = (f.at(x, y) - mu) / mu;
                for (int i = 0; i < 5; ++i) {
                    g[i] += d[i] * r;
                    for (int j = 0; j < 5; ++j) a[i][j] += d[i] * d[j] / mu;
                }
            }
        bool improved = false;
        for (int tries = 0; tries < 8 && !improved; ++tries) {
            auto m = a;
            for (int i = 0; i < 5; ++i) m[i][i] *= 1 + lambda;
            Vec step = g;
            if (!solve(m, step)) return out;
            Vec q = p;
            for (int i = 0; i < 5; ++i) q[i] += step[i];
            if (!(q[2] > 0 && q[3] > 0 && q[4] > 0.3 && q[4] < 5)) {
                lambda *= 10;
                continue;
            }
            const double lq = log_likelihood(f, w, q);
            if (lq >= ll) {
                const double gain = lq - ll;
                p = q, ll = lq, lambda = std::max(lambda / 10, 1e-7), improved = true;
                if (gain < 1e-6) it = 1000;
            } else {
                lambda *= 10;
            }
        }
        if (!improved) break;
    }
    out = {p[0], p[1], p[2], p[3], p[4], false};
    out.converged = std::abs(p[0] - c.x) < 1.5 && std::abs(p[1] - c.y) < 1.5 && p[4] > 0.4 && p[4] < 4.9;
    return out;
}

bool add_evidence(const Frame& f, const SpotFit& s, int hw, spotflow::camera::SpotResiduals& ev) {
    const Window w = window_of(f, s.x, s.y, hw);
    int npix = 0;
    double r2 = 0, sig = 0, w2 = 0, w3 = 0;
    const Vec p = {s.x, s.y, s.photons, s.background, s.sigma};
    for (int y = w.y0; y <= w.y1; ++y)
        for (int x = w.x0; x <= w.x1; ++x) {
            const double mu = model(p, x, y), g = mu - s.background;
            if (g < 0.3 * s.background) continue;
            const double r = f.at(x, y) - mu;
            r2 += r * r, sig += g, w2 += g * g / mu, w3 += g * g * g / mu, ++npix;
        }
    if (npix < 6) return false;
    const int before = ev.spots;
    ev.add_spot(r2, npix, s.background, sig, w2 > 0 ? w3 / w2 : 0);
    return ev.spots > before;
}

} // namespace detect_decode

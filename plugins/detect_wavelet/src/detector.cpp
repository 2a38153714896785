#include "detector.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace detect_wavelet {

namespace {
template <class T> void convert(const void* frame, Image& img, const spotflow::camera::PoissonScale& u) {
    const T* src = static_cast<const T*>(frame);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<float>(u(static_cast<double>(src[i])));
}

// The L2 norms of the W1 and W2 kernels: white noise of sd 1 gives planes
// of these sds (the camera check and the candidates' local noise).
struct KernelNorms {
    double w1 = 0, w2 = 0;
    KernelNorms() {
        const int n = 41;
        Image delta{n, n, std::vector<float>(static_cast<size_t>(n * n), 0.f)};
        delta.pixels[static_cast<size_t>(n * n / 2)] = 1.f;
        const WaveletPlanes p = wavelet_planes(delta);
        for (size_t i = 0; i < delta.pixels.size(); ++i)
            w1 += double(p.w1.pixels[i]) * p.w1.pixels[i], w2 += double(p.w2.pixels[i]) * p.w2.pixels[i];
        w1 = std::sqrt(w1), w2 = std::sqrt(w2);
    }
};
const KernelNorms& norms() {
    static const KernelNorms k;
    return k;
}
} // namespace

Image to_counts(const DLTensor& m, int64_t t, const spotflow::camera::PoissonScale& u) {
    const int h = static_cast<int>(m.shape[1]), w = static_cast<int>(m.shape[2]);
    Image img{w, h, std::vector<float>(static_cast<size_t>(w) * h)};
    const size_t bytes = static_cast<size_t>(m.dtype.bits / 8) * img.pixels.size();
    const void* frame = static_cast<const char*>(m.data) + m.byte_offset + static_cast<size_t>(t) * bytes;
    const auto code = m.dtype.code, bits = m.dtype.bits;
    if (code == kDLUInt && bits == 8) convert<uint8_t>(frame, img, u);
    else if (code == kDLUInt && bits == 16) convert<uint16_t>(frame, img, u);
    else if (code == kDLUInt && bits == 32) convert<uint32_t>(frame, img, u);
    else if (code == kDLInt && bits == 16) convert<int16_t>(frame, img, u);
    else if (code == kDLInt && bits == 32) convert<int32_t>(frame, img, u);
    else if (code == kDLFloat && bits == 32) convert<float>(frame, img, u);
    else if (code == kDLFloat && bits == 64) convert<double>(frame, img, u);
    else throw std::invalid_argument("unsupported movie dtype");
    return img;
}

double glrt_threshold(double false_positives, double pixels) {
    // Per-pixel false-alarm probability p; the statistic of a fixed-position
    // spot with N >= 0 is 0 half the time and chi-square(1) otherwise, so
    // P(llr > z^2) = P(Z > z) for a standard normal Z. Bisection on z.
    const double p = std::clamp(false_positives / std::max(pixels, 1.0), 1e-300, 0.5);
    double lo = 0, hi = 40;
    for (int i = 0; i < 200; ++i) {
        const double z = 0.5 * (lo + hi);
        (0.5 * std::erfc(z / std::sqrt(2.0)) > p ? lo : hi) = z;
    }
    const double z = 0.5 * (lo + hi);
    return z * z;
}

namespace {

// Start positions for a two-emitter refit of a one-emitter fit f: along the
// principal axis of the excess light around it, as far apart as its spread
// beyond the PSF's says (two equal spots at +-h have variance s^2 + h^2).
std::pair<std::pair<double, double>, std::pair<double, double>> pair_starts(const Image& e, const Fit& f) {
    const int cx = static_cast<int>(std::lround(f.x)), cy = static_cast<int>(std::lround(f.y));
    double w = 0, mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (int j = cy - 3; j <= cy + 3; ++j)
        for (int i = cx - 3; i <= cx + 3; ++i) {
            if (i < 0 || j < 0 || i >= e.width || j >= e.height) continue;
            const double v = std::max(0.0, static_cast<double>(e.at(i, j)) - f.background);
            w += v, mx += v * i, my += v * j, sxx += v * i * i, syy += v * j * j, sxy += v * i * j;
        }
    if (w <= 0) return {{f.x - 0.5, f.y}, {f.x + 0.5, f.y}};
    mx /= w, my /= w;
    const double cxx = sxx / w - mx * mx, cyy = syy / w - my * my, cxy = sxy / w - mx * my;
    const double mean = 0.5 * (cxx + cyy), diff = 0.5 * (cxx - cyy);
    const double l1 = mean + std::sqrt(diff * diff + cxy * cxy);
    const double angle = 0.5 * std::atan2(2 * cxy, cxx - cyy);
    const double h = std::sqrt(std::max(l1 - f.sigma * f.sigma, 0.25));
    const double ux = std::cos(angle) * h, uy = std::sin(angle) * h;
    return {{f.x - ux, f.y - uy}, {f.x + ux, f.y + uy}};
}

// The ratio of the principal second moments of the excess light around a
// one-emitter fit f (1 for a round spot; s^2 + d^2/4 over s^2 for two equal
// spots d apart).
double elongation(const Image& e, const Fit& f) {
    const int cx = static_cast<int>(std::lround(f.x)), cy = static_cast<int>(std::lround(f.y));
    const int r = std::max(3, static_cast<int>(std::ceil(2.5 * f.sigma)));
    double w = 0, mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (int j = cy - r; j <= cy + r; ++j)
        for (int i = cx - r; i <= cx + r; ++i) {
            if (i < 0 || j < 0 || i >= e.width || j >= e.height) continue;
            const double v = std::max(0.0, static_cast<double>(e.at(i, j)) - f.background);
            w += v, mx += v * i, my += v * j, sxx += v * i * i, syy += v * j * j, sxy += v * i * j;
        }
    if (w <= 0) return 1e9;
    mx /= w, my /= w;
    const double cxx = sxx / w - mx * mx, cyy = syy / w - my * my, cxy = sxy / w - mx * my;
    const double mean = 0.5 * (cxx + cyy), half = std::sqrt(0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);
    return mean - half > 0 ? (mean + half) / (mean - half) : 1e9;
}

// Candidates: local maxima of W2 in units of its local noise sd, which the
// Poisson-equivalent counts give from the smooth image V2 = V0 - W1 - W2
// (variance = mean). A spot of the test's threshold strength stands ~4 sd
// out of W2, so a low candidate_z keeps the dim ones for the test.
std::vector<Peak> candidates(const Image& u, const WaveletPlanes& p, double z, int border) {
    const double k2 = norms().w2;
    Image score{u.width, u.height, std::vector<float>(u.pixels.size())};
    for (size_t i = 0; i < u.pixels.size(); ++i) {
        const double v2 = static_cast<double>(u.pixels[i]) - p.w1.pixels[i] - p.w2.pixels[i];
        score.pixels[i] = static_cast<float>(p.w2.pixels[i] / (k2 * std::sqrt(std::max(v2, 0.5))));
    }
    return local_maxima(score, static_cast<float>(z), border);
}

} // namespace

std::vector<Detection> detect_frame(const Image& e, const Settings& s, FrameNoise* noise) {
    const WaveletPlanes planes = wavelet_planes(e);
    const bool contrast = s.contrast_threshold > 0;
    double w1_noise = 0;
    if (contrast || noise) {
        // A noise-free frame (simulations, tests) has a zero MAD; a floor
        // relative to the strongest structure keeps the threshold meaningful.
        const float w2_max = *std::max_element(planes.w2.pixels.begin(), planes.w2.pixels.end());
        w1_noise = std::max(robust_std(planes.w1), 1e-4 * std::max(0.0, static_cast<double>(w2_max)) + 1e-12);
    }
    if (noise) {
        std::vector<float> v = e.pixels;
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
        noise->w1_measured = w1_noise;
        noise->w1_expected = norms().w1 * std::sqrt(std::max(0.0, static_cast<double>(v[v.size() / 2])));
    }
    const auto peaks = contrast ? local_maxima(planes.w2, static_cast<float>(s.contrast_threshold * w1_noise), s.border)
                                : candidates(e, planes, s.candidate_z, s.border);

    const FitOptions& fo = s.fit;
    const double f2 = s.camera.excess_noise(), qe = s.camera.qe;
    const double read_in = s.camera.input_read_noise_e();
    const int reach = fo.half_width + 2;
    const auto near_of = [&](const std::vector<Peak>& set, const Peak& p) {
        std::vector<std::pair<int, int>> near;
        for (const Peak& q : set)
            if ((q.x != p.x || q.y != p.y) && std::abs(q.x - p.x) <= reach && std::abs(q.y - p.y) <= reach)
                near.emplace_back(q.x, q.y);
        return near;
    };
    // Stage 1: every candidate on its own, and the test. Candidates that
    // are noise must not join a real spot's fit: started on the spot's
    // flank they take part of its light.
    struct Kept {
        Peak peak;
        Fit fit;
        double llr, probability;
    };
    std::vector<Kept> kept;
    // Strong candidates (6 sd in W2: not noise) do join stage 1 as
    // neighbours, so that a bright pair a few px apart is not pulled together.
    std::vector<Peak> strong;
    for (const Peak& p : peaks)
        if (p.value >= 6) strong.push_back(p);
    for (const Peak& p : peaks) {
        const Fit f = fit_spot(e, p.x, p.y, near_of(contrast ? peaks : strong, p), fo);
        if (!f.converged || std::hypot(f.x - p.x, f.y - p.y) > s.max_shift) continue;
        const double llr = 2 * (f.log_likelihood - f.null_log_likelihood);
        double probability;
        if (contrast) {
            // A monotone map of the wavelet SNR to (0, 1) that is 0.5 at the
            // detection threshold: a score to rank and sweep.
            const double snr = p.value / w1_noise;
            probability = snr * snr / (snr * snr + s.contrast_threshold * s.contrast_threshold);
        } else {
            if (!(llr >= s.llr_threshold)) continue;
            probability = llr / (llr + s.llr_threshold); // 0.5 at the test's threshold
        }
        kept.push_back({p, f, llr, probability});
    }
    // Stage 2, neighbour-aware: a spot with accepted spots within reach of
    // its window is refitted jointly with them (one integrated Gaussian
    // each on a shared background, as DAOSTORM and ThunderSTORM's
    // multi-emitter fitting do), so their tails do not pull it.
    std::vector<Peak> accepted;
    for (const Kept& k : kept)
        accepted.push_back({static_cast<int>(std::lround(k.fit.x)), static_cast<int>(std::lround(k.fit.y)), 0.f});
    std::vector<Detection> out;
    out.reserve(kept.size());
    for (size_t i = 0; i < kept.size(); ++i) {
        const Kept& k = kept[i];
        const Peak& p = k.peak;
        std::vector<std::pair<int, int>> near;
        if (!contrast) {
            near = near_of(accepted, accepted[i]);
        } else {
            near = near_of(peaks, p);
        }
        Fit f = k.fit;
        if (!contrast && !near.empty()) {
            const Fit g = fit_spot(e, p.x, p.y, near, fo);
            if (g.converged && std::hypot(g.x - p.x, g.y - p.y) <= s.max_shift) f = g;
        }
        const double llr = k.llr, probability = k.probability;
        const auto emit = [&](const Fit& g) {
            Detection d;
            d.x = g.x;
            d.y = g.y;
            // Counts are (electrons + read variance) / F^2.
            d.photons = g.photons * f2 / qe;
            d.background = std::max(0.0, g.background * f2 - read_in * read_in) / qe;
            d.sigma = g.sigma;
            // Per-axis CRLB, averaged over x and y; the counts' Poisson law
            // already carries the EM excess noise.
            d.uncertainty = std::sqrt(0.5 * (g.crlb_x * g.crlb_x + g.crlb_y * g.crlb_y));
            d.probability = probability;
            d.llr = llr;
            d.isolated = near.empty();
            out.push_back(d);
        };
        // Two puncta closer than about 2 sigma give one wavelet peak; fitted
        // as one they leave one detection between them and a misfit the
        // deviance shows (it is ~ chi-square with pixels - parameters
        // degrees of freedom when the model is right). Only then is the
        // two-emitter model tried, so single spots cost one fit.
        const int params = 4 + 3 * static_cast<int>(near.size());
        const double dof = std::max(1, f.pixels - params);
        if (s.split_pairs && f.deviance > dof + 4 * std::sqrt(2 * dof)) {
            const auto [a, b] = pair_starts(e, f);
            const auto [f1, f2p] = fit_pair(e, p.x, p.y, near, a, b, fo);
            const double separation = std::hypot(f1.x - f2p.x, f1.y - f2p.y);
            const double reach_px = s.max_shift + 0.5 * separation;
            if (f1.converged && f2p.converged && 2 * (f1.log_likelihood - f.log_likelihood) > s.split_threshold &&
                separation > 0.5 && std::hypot(f1.x - p.x, f1.y - p.y) <= reach_px &&
                std::hypot(f2p.x - p.x, f2p.y - p.y) <= reach_px && std::min(f1.photons, f2p.photons) > 0.1 * f.photons) {
                emit(f1);
                emit(f2p);
                continue;
            }
        }
        emit(f);
    }
    // Two peaks of one spot (a noisy plateau) fit to the same place: keep
    // the brighter fit.
    std::sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.x < b.x; });
    std::vector<bool> drop(out.size(), false);
    for (size_t i = 0; i < out.size(); ++i) {
        for (size_t j = i + 1; j < out.size() && out[j].x - out[i].x < 0.5; ++j) {
            if (std::hypot(out[j].x - out[i].x, out[j].y - out[i].y) < 0.5)
                drop[out[i].photons < out[j].photons ? i : j] = true;
        }
    }
    std::vector<Detection> unique;
    for (size_t i = 0; i < out.size(); ++i)
        if (!drop[i]) unique.push_back(out[i]);
    std::sort(unique.begin(), unique.end(), [](const Detection& a, const Detection& b) {
        return a.y != b.y ? a.y < b.y : a.x < b.x;
    });
    return unique;
}

double estimate_sigma(const std::vector<Image>& frames, const Settings& s, double fallback, int* used) {
    std::vector<std::pair<double, double>> fits; // (photons, sigma)
    for (const Image& img : frames) {
        for (const Detection& d : detect_frame(img, s)) {
            // Bright (4x the test's threshold) and alone in its window: its
            // shape is the PSF's, not a neighbour's.
            if (!d.isolated || d.llr < 4 * s.llr_threshold) continue;
            FitOptions fo = s.fit;
            fo.fit_sigma = true;
            fo.half_width = std::max(fo.half_width, 4);
            const Fit f = fit_spot(img, static_cast<int>(std::lround(d.x)), static_cast<int>(std::lround(d.y)), {}, fo);
            // Two puncta closer than ~2 sigma look like one wide, bright
            // spot, and the brightest are mostly such pairs in a crowded
            // frame (the 150-puncta suite regime gave 1.62 for a true 1.3):
            // a spot whose light is elongated is not a PSF.
            if (f.converged && f.sigma > 0.4 && f.sigma < 4.9 * s.fit.sigma && elongation(img, f) < 1.35)
                fits.emplace_back(f.photons, f.sigma);
        }
    }
    // The brightest 100 say it best.
    std::sort(fits.begin(), fits.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (fits.size() > 100) fits.resize(100);
    *used = static_cast<int>(fits.size());
    if (fits.size() < 5) return fallback;
    std::vector<double> sig;
    for (const auto& f : fits) sig.push_back(f.second);
    std::nth_element(sig.begin(), sig.begin() + static_cast<std::ptrdiff_t>(sig.size() / 2), sig.end());
    return sig[sig.size() / 2];
}

} // namespace detect_wavelet

namespace detect_wavelet {

spotflow::camera::Calibration estimate_camera(const spotflow::camera::Sample& sample, const DLTensor& movie,
                                              const Settings& base, const spotflow::camera::Camera& assumed,
                                              double* sigma, int* spots) {
    namespace cam = spotflow::camera;
    const cam::BackgroundNoise bg = cam::background_noise(sample);
    Settings s0 = base;
    s0.camera = cam::provisional(bg, assumed);
    s0.contrast_threshold = 0;
    const cam::PoissonScale scale0 = cam::poisson_scale(s0.camera);
    const double slope0 = s0.camera.ptc_slope();
    cam::SpotResiduals ev;
    std::vector<double> widths;
    const int64_t frames = std::min<int64_t>(movie.shape[0], 32);
    for (int64_t t = 0; t < frames; ++t) {
        const Image u = to_counts(movie, t, scale0);
        for (const Detection& d : detect_frame(u, s0)) {
            if (!d.isolated || d.llr < 2 * s0.llr_threshold) continue;
            FitOptions fo = s0.fit;
            fo.fit_sigma = true;
            fo.half_width = std::max(fo.half_width, 5);
            const int px = static_cast<int>(std::lround(d.x)), py = static_cast<int>(std::lround(d.y));
            const Fit f = fit_spot(u, px, py, {}, fo);
            if (!f.converged || !(f.sigma > 0.4 && f.sigma < 4.9 * s0.fit.sigma)) continue;
            // The same window fit_spot used; the model there and each
            // pixel's squared residual are the evidence.
            const int x0 = std::max(0, px - fo.half_width), x1 = std::min(u.width - 1, px + fo.half_width);
            const int y0 = std::max(0, py - fo.half_width), y1 = std::min(u.height - 1, py + fo.half_width);
            // Only the core (signal >= 30 % of the background): far from it
            // the sum would mostly test the fitted background.
            int npix = 0;
            double r2 = 0, sig = 0, w2 = 0, w3 = 0;
            for (int y = y0; y <= y1; ++y)
                for (int x = x0; x <= x1; ++x) {
                    const double g = f.photons * pixel_fraction(f.x, f.sigma, x) * pixel_fraction(f.y, f.sigma, y);
                    if (g < 0.3 * f.background) continue;
                    const double mu = f.background + g;
                    const double r = static_cast<double>(u.at(x, y)) - mu;
                    r2 += r * r, sig += g, w2 += g * g / mu, w3 += g * g * g / mu, ++npix;
                }
            if (npix < 6) continue;
            ev.add_spot(r2, npix, f.background, sig, w2 > 0 ? w3 / w2 : 0);
            widths.push_back(f.sigma);
        }
    }
    *spots = ev.spots;
    if (ev.spots < 10)
        throw std::invalid_argument(
            "camera calibration: only " + std::to_string(ev.spots) + " bright isolated puncta in the first " +
            std::to_string(frames) +
            " frames, too few to measure the gain from; state the camera instead (param camera: kind scmos or "
            "emccd, with baseline_adu, e_per_adu, read_noise_e, em_gain)");
    if (widths.size() >= 5) {
        std::nth_element(widths.begin(), widths.begin() + static_cast<std::ptrdiff_t>(widths.size() / 2), widths.end());
        *sigma = widths[widths.size() / 2];
    }
    return cam::calibrate(bg, slope0 * ev.ratio(), assumed);
}

} // namespace detect_wavelet

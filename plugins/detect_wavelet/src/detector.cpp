#include "detector.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace detect_wavelet {

namespace {
template <class T> void convert(const void* frame, Image& img, const Camera& c) {
    const T* src = static_cast<const T*>(frame);
    const double scale = c.e_per_adu / c.em_gain;
    for (size_t i = 0; i < img.pixels.size(); ++i)
        img.pixels[i] = static_cast<float>((static_cast<double>(src[i]) - c.baseline_adu) * scale);
}
} // namespace

Image to_electrons(const DLTensor& m, int64_t t, const Camera& c) {
    const int h = static_cast<int>(m.shape[1]), w = static_cast<int>(m.shape[2]);
    Image img{w, h, std::vector<float>(static_cast<size_t>(w) * h)};
    const size_t bytes = static_cast<size_t>(m.dtype.bits / 8) * img.pixels.size();
    const void* frame = static_cast<const char*>(m.data) + m.byte_offset + static_cast<size_t>(t) * bytes;
    const auto code = m.dtype.code, bits = m.dtype.bits;
    if (code == kDLUInt && bits == 8) convert<uint8_t>(frame, img, c);
    else if (code == kDLUInt && bits == 16) convert<uint16_t>(frame, img, c);
    else if (code == kDLUInt && bits == 32) convert<uint32_t>(frame, img, c);
    else if (code == kDLInt && bits == 16) convert<int16_t>(frame, img, c);
    else if (code == kDLInt && bits == 32) convert<int32_t>(frame, img, c);
    else if (code == kDLFloat && bits == 32) convert<float>(frame, img, c);
    else if (code == kDLFloat && bits == 64) convert<double>(frame, img, c);
    else throw std::invalid_argument("unsupported movie dtype");
    return img;
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

} // namespace

std::vector<Detection> detect_frame(const Image& e, const Settings& s) {
    const WaveletPlanes planes = wavelet_planes(e);
    // A noise-free frame (simulations, tests) has a zero MAD; a floor
    // relative to the strongest structure keeps the threshold meaningful.
    const float w2_max = *std::max_element(planes.w2.pixels.begin(), planes.w2.pixels.end());
    const double noise = std::max(robust_std(planes.w1), 1e-4 * std::max(0.0, static_cast<double>(w2_max)) + 1e-12);
    const auto peaks = local_maxima(planes.w2, static_cast<float>(s.threshold * noise), s.border);

    FitOptions fo = s.fit;
    fo.read_variance = std::pow(s.camera.read_noise_e / s.camera.em_gain, 2);
    const double excess = std::sqrt(s.camera.excess_noise);
    std::vector<Detection> out;
    out.reserve(peaks.size());
    // Peaks close enough to put light in a window are fitted together with
    // it (multi-emitter fitting): their tails would otherwise bias the fit.
    const int reach = fo.half_width + 2;
    for (const Peak& p : peaks) {
        std::vector<std::pair<int, int>> near;
        for (const Peak& q : peaks)
            if (&q != &p && std::abs(q.x - p.x) <= reach && std::abs(q.y - p.y) <= reach) near.emplace_back(q.x, q.y);
        const Fit f = fit_spot(e, p.x, p.y, near, fo);
        if (!f.converged || std::hypot(f.x - p.x, f.y - p.y) > s.max_shift) continue;
        const double snr = p.value / noise;
        // A monotone map of the wavelet SNR to (0, 1) that is 0.5 at the
        // detection threshold: a score to rank and sweep, not a calibrated
        // probability.
        const double probability = snr * snr / (snr * snr + s.threshold * s.threshold);
        const auto emit = [&](const Fit& g) {
            Detection d;
            d.x = g.x;
            d.y = g.y;
            d.photons = g.photons / s.camera.qe;
            d.background = g.background / s.camera.qe;
            d.sigma = g.sigma;
            // Per-axis CRLB, averaged over x and y, widened by the EM excess noise.
            d.uncertainty = excess * std::sqrt(0.5 * (g.crlb_x * g.crlb_x + g.crlb_y * g.crlb_y));
            d.probability = probability;
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
            const auto [f1, f2] = fit_pair(e, p.x, p.y, near, a, b, fo);
            const double separation = std::hypot(f1.x - f2.x, f1.y - f2.y);
            const double reach_px = s.max_shift + 0.5 * separation;
            if (f1.converged && f2.converged && 2 * (f1.log_likelihood - f.log_likelihood) > s.split_threshold &&
                separation > 0.5 && std::hypot(f1.x - p.x, f1.y - p.y) <= reach_px &&
                std::hypot(f2.x - p.x, f2.y - p.y) <= reach_px && std::min(f1.photons, f2.photons) > 0.1 * f.photons) {
                emit(f1);
                emit(f2);
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
    std::vector<Detection> kept;
    for (size_t i = 0; i < out.size(); ++i)
        if (!drop[i]) kept.push_back(out[i]);
    std::sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) {
        return a.y != b.y ? a.y < b.y : a.x < b.x;
    });
    return kept;
}

} // namespace detect_wavelet

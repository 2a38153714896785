#include "spotflow_sim/render.hpp"

#include <cmath>

#include "spotflow_sim/camera.hpp"
#include "spotflow_sim/psf.hpp"

namespace sim {
namespace {

// Adds a spot's detected photoelectrons to `electrons` and returns the
// photons it emitted; visit(i) sees every pixel index of its PSF window.
template <class Visit>
int64_t add_spot(const FrameModel& m, const Spot& s, Rng& rng, std::vector<int32_t>& electrons, Visit&& visit) {
    const double qe = m.camera.qe;
    const AxisWeights wx = integrated_gaussian(s.x, m.sigma_px, m.size);
    const AxisWeights wy = integrated_gaussian(s.y, m.sigma_px, m.size);
    int64_t detected = 0;
    for (size_t j = 0; j < wy.weight.size(); ++j) {
        const double ny = qe * s.mean_photons * wy.weight[j];
        const int64_t row = (wy.first + static_cast<int64_t>(j)) * m.size + wx.first;
        for (size_t i = 0; i < wx.weight.size(); ++i) {
            const int64_t n = poisson(rng, ny * wx.weight[i]);
            const auto p = static_cast<size_t>(row + static_cast<int64_t>(i));
            electrons[p] += static_cast<int32_t>(n);
            visit(p);
            detected += n;
        }
    }
    const double captured = wx.sum() * wy.sum();
    return detected + poisson(rng, s.mean_photons * (1.0 - qe * captured));
}

// Every pixel through the whole chain: background photons, spots, camera.
std::vector<int64_t> render_direct(const FrameModel& m, const std::vector<Spot>& spots, Rng& rng, uint16_t* out) {
    std::vector<int32_t> electrons(static_cast<size_t>(m.size * m.size));
    const double qe = m.camera.qe;
    if (m.gradient == 0) {
        const PoissonSampler draw(qe * m.background);
        for (int32_t& e : electrons) e = static_cast<int32_t>(draw(rng));
    } else {
        for (int64_t y = 0; y < m.size; ++y)
            for (int64_t x = 0; x < m.size; ++x)
                electrons[static_cast<size_t>(y * m.size + x)] =
                    static_cast<int32_t>(poisson(rng, qe * background_at(m, x, y)));
    }
    std::vector<int64_t> emitted;
    emitted.reserve(spots.size());
    for (const Spot& s : spots) emitted.push_back(add_spot(m, s, rng, electrons, [](size_t) {}));
    const Camera camera(m.camera);
    for (size_t i = 0; i < electrons.size(); ++i) out[i] = camera(rng, electrons[i]);
    return emitted;
}

// Pixels outside every PSF window hold background only: one draw from its
// ADU law each. The pixels inside a window are drawn afresh through the
// whole chain (which draw a pixel gets depends only on the geometry, so the
// discarded table draws bias nothing).
std::vector<int64_t> render_tabulated(const FrameModel& m, const std::vector<Spot>& spots, Rng& rng, uint16_t* out) {
    const size_t n = static_cast<size_t>(m.size * m.size);
    const DiscreteSampler& adu = *m.background_adu;
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint16_t>(adu(rng));
    if (spots.empty()) return {};

    std::vector<int32_t> electrons(n, 0);
    std::vector<uint8_t> covered(n, 0);
    std::vector<size_t> pixels;
    const auto visit = [&](size_t p) {
        if (!covered[p]) {
            covered[p] = 1;
            pixels.push_back(p);
        }
    };
    std::vector<int64_t> emitted;
    emitted.reserve(spots.size());
    for (const Spot& s : spots) emitted.push_back(add_spot(m, s, rng, electrons, visit));
    const PoissonSampler background(m.camera.qe * m.background);
    const Camera camera(m.camera);
    for (const size_t p : pixels) out[p] = camera(rng, electrons[p] + background(rng));
    return emitted;
}

} // namespace

double background_at(const FrameModel& m, int64_t x, int64_t y) {
    if (m.gradient == 0) return m.background;
    const double d = m.size > 1 ? static_cast<double>(x + y) / static_cast<double>(2 * (m.size - 1)) : 0.5;
    return m.background * (1.0 + m.gradient * (d - 0.5));
}

std::vector<int64_t> render_frame(const FrameModel& m, const std::vector<Spot>& spots, Rng& rng, uint16_t* out) {
    return m.background_adu && m.gradient == 0 ? render_tabulated(m, spots, rng, out)
                                               : render_direct(m, spots, rng, out);
}

} // namespace sim

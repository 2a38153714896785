#include "spotflow_decode/normalise.hpp"

#include <stdexcept>

namespace decode {

Normalisation normalisation_from(const std::string& name) {
    if (name == "photons") return Normalisation::Photons;
    if (name == "poisson_counts") return Normalisation::PoissonCounts;
    throw std::invalid_argument("input normalisation '" + name + "' is not photons or poisson_counts");
}

const char* normalisation_name(Normalisation n) {
    return n == Normalisation::Photons ? "photons" : "poisson_counts";
}

InputTransform input_transform(Normalisation n, const spotflow::camera::Camera& c) {
    InputTransform t;
    if (n == Normalisation::Photons) {
        t.offset = c.baseline_adu;
        t.scale = c.e_per_adu / c.gain() / c.qe;
        return t;
    }
    const spotflow::camera::PoissonScale p = spotflow::camera::poisson_scale(c);
    t.offset = p.offset;
    t.scale = p.scale;
    t.shift = p.shift;
    t.photons_per_unit = c.excess_noise() / c.qe;
    return t;
}

} // namespace decode

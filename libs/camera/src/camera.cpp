#include "spotflow_camera/camera.hpp"

namespace spotflow::camera {

PoissonScale poisson_scale(const Camera& c) {
    const double f2 = c.excess_noise();
    const double rn = c.input_read_noise_e();
    return {c.baseline_adu, c.e_per_adu / c.gain() / f2, rn * rn / f2};
}

} // namespace spotflow::camera

// The camera model every detector and the simulator share: photo-electrons
// to camera counts (ADU) and back, and the variance of a pixel.
//
//   sCMOS / CCD: ADU = offset + (n + read noise) / e_per_adu
//   EMCCD:       ADU = offset + (EM(n) + read noise) / e_per_adu
//
// n ~ Poisson(qe x photons) photo-electrons; EM(n) is the gain register's
// output, mean em_gain x n and variance F^2 em_gain^2 n with the excess noise
// factor F^2 -> 2 at high gain (Robbins & Hadwen 2003). So a pixel of mean
// m ADU has variance F^2 (em_gain / e_per_adu) (m - offset) + (read_noise_e /
// e_per_adu)^2 ADU^2 (the photon transfer relation, Janesick 2007).
//
// All members are plain values: copy freely, use from any thread.
#pragma once

namespace spotflow::camera {

enum class Kind { Scmos, Emccd };

struct Camera {
    Kind kind = Kind::Scmos;
    double qe = 0.9;           // photo-electrons per photon
    double baseline_adu = 100; // offset added to every pixel
    double e_per_adu = 0.5;    // electrons per ADU at the output (after the EM register)
    double read_noise_e = 1.5; // rms read noise at the output, electrons
    double em_gain = 100;      // mean EM gain (EMCCD only; an sCMOS ignores it)

    // The multiplication between photo-electrons and output electrons.
    double gain() const { return kind == Kind::Emccd ? em_gain : 1.0; }
    // F^2: 2 for an EMCCD's register at high gain, 1 otherwise.
    double excess_noise() const { return kind == Kind::Emccd ? 2.0 : 1.0; }
    // Mean ADU one photo-electron adds.
    double adu_per_electron() const { return gain() / e_per_adu; }
    // Read noise referred to the input, photo-electrons rms.
    double input_read_noise_e() const { return read_noise_e / gain(); }

    // Output electrons (after the register, read noise included) to ADU,
    // before rounding: what the simulator digitises.
    double adu_from_output_electrons(double electrons) const { return baseline_adu + electrons * (1.0 / e_per_adu); }
    // ADU to photo-electrons (the mean inverse of the model).
    double electrons(double adu) const { return (adu - baseline_adu) * e_per_adu / gain(); }
    // Variance in ADU^2 of a pixel whose mean is mean_adu.
    double variance_adu(double mean_adu) const {
        const double signal = mean_adu > baseline_adu ? mean_adu - baseline_adu : 0.0;
        const double read = read_noise_e / e_per_adu;
        return excess_noise() * adu_per_electron() * signal + read * read;
    }
    // Slope of variance against mean, ADU (the photon transfer curve's).
    double ptc_slope() const { return excess_noise() * adu_per_electron(); }
};

// ADU to "Poisson-equivalent counts" u, whose variance equals their mean:
// u = (electrons + input read variance) / F^2. For sCMOS this is Huang et
// al.'s (2013) read-noise approximation Poisson(mu + sigma^2); for an EMCCD
// dividing by F^2 = 2 makes the doubled shot noise Poisson-like again
// (Mortensen et al. 2010). Likelihood fits and significance tests work on u;
// photons are u x F^2 / qe.
struct PoissonScale {
    double offset = 0, scale = 1, shift = 0; // u = (adu - offset) * scale + shift
    double operator()(double adu) const { return (adu - offset) * scale + shift; }
};
PoissonScale poisson_scale(const Camera& c);

} // namespace spotflow::camera

// The Cramér–Rao lower bound of 2-D localisation for a pixelated Gaussian
// PSF on a uniform background under Poisson noise, in the closed form of
// Mortensen et al. 2010 (Nat. Methods 7:377, eq. 6 for MLE), and the
// pixel-integrated Gaussian it is derived for.
#pragma once

namespace spotflow::psf {

// Per-axis standard deviation bound, in pixels:
//   Var = (sa² / N) / (1 + ∫₀¹ ln t / (1 + t / τ) dt),
//   sa² = s² + 1/12,  τ = 2π sa² b / N   (pixel size a = 1),
// times `excess_noise` (F², 2 for an EMCCD) on the variance.
// photons N > 0, background b >= 0 photons per pixel, sigma s > 0 in px,
// excess_noise > 0; otherwise std::invalid_argument.
double crlb_mortensen_px(double photons, double background_per_px, double sigma_px, double excess_noise = 1.0);

// The fraction of a unit 1-D Gaussian (mean `centre`, standard deviation
// `sigma`, both in pixels) that falls in pixel `pixel`, i.e. in
// [pixel - 0.5, pixel + 0.5) under the convention that pixel k's centre is
// at k: 0.5 [erf((k + 0.5 - c) / (√2 s)) - erf((k - 0.5 - c) / (√2 s))].
// Accurate in the far tails too (no cancellation). sigma > 0.
double integrated_gaussian_1d(double centre, double sigma, int pixel);

} // namespace spotflow::psf

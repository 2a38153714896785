// The Cramér–Rao lower bound of 2-D localisation for a pixelated Gaussian
// PSF on a uniform background under Poisson noise, in the closed form of
// Mortensen et al. 2010 (Nat. Methods 7:377, eq. 6 for MLE).
#pragma once

namespace spotflow::psf {

// Per-axis standard deviation bound, in pixels:
//   Var = (sa² / N) / (1 + ∫₀¹ ln t / (1 + t / τ) dt),
//   sa² = s² + 1/12,  τ = 2π sa² b / N   (pixel size a = 1),
// times `excess_noise` (F², 2 for an EMCCD) on the variance.
// photons N > 0, background b >= 0 photons per pixel, sigma s > 0 in px.
double crlb_mortensen_px(double photons, double background_per_px, double sigma_px, double excess_noise = 1.0);

} // namespace spotflow::psf

//! Per-channel moment propagation: the zoo's stand-in for a calibration batch.
//!
//! `make_models.py` sets each batch norm's moving statistics to the batch statistics of one
//! calibration batch, so every normalized output is about `N(beta, gamma^2)`. The zoo gets
//! the same effect without running anything: it tracks, for every channel of every
//! activation, the mean and variance the activation would have over random inputs, and
//! gives each batch norm those. The model:
//!
//! - an activation is `act(z)` with `z` Gaussian per channel (`act` the identity, ReLU or
//!   ReLU6): [`Moments`] keeps `z`'s mean and variance and `act` lazily, because a max pool
//!   commutes with the monotone activations and is modelled on `z`;
//! - a convolution's output channel `o` has mean `sum(w * mean_in) + b` and variance
//!   `sum(w^2 * var_in)` over its taps (inputs taken as independent), counting only the
//!   taps that fall inside the input, plus the spread of the mean between border and
//!   inner pixels ([`TapOverlap`]);
//! - ReLU / ReLU6 of a Gaussian: the moments of a clipped Gaussian, in closed form;
//! - a k x k max pool: the maximum of `k^2` independent copies of `z`;
//! - average pooling (global too) keeps the mean and shrinks the variance as an average of
//!   pixels with correlation [`PIXEL_CORRELATION`] would;
//! - additions add means and variances; concatenations concatenate channels.
//!
//! The model is rough where it assumes independence (neighbouring pixels and channels are
//! correlated) and where it takes the activations as Gaussian. Measured on one input, the
//! estimates hold within a few percent through the first layers; deeper, the measured
//! statistics wander from them (one image's deviations from the population propagate), up
//! to about 3x in RMS at the end of Inception v3 and under 1.6x in the other networks.
//! Every activation stays O(1) (RMS below 4), which `converter/tests/zoo.rs` checks by
//! running the networks.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use ferrolite_runtime::ir::Activation;

/// Correlation assumed between the pixels an average pool averages: independent pixels
/// would make a 3x3 average shrink the variance 9-fold, identical ones not at all; the
/// zoo's networks measure about 3-fold, which a correlation of 0.25 gives.
pub(crate) const PIXEL_CORRELATION: f32 = 0.25;

/// Per-channel moments of an activation `act(z)`, `z ~ N(mean, var)` per channel.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    /// Mean of `z` per channel.
    pub mean: Vec<f32>,
    /// Variance of `z` per channel.
    pub var: Vec<f32>,
    /// The activation applied to `z` (identity, ReLU or ReLU6).
    pub act: Activation,
}

impl Moments {
    /// Gaussian channels (no activation).
    pub fn gaussian(mean: Vec<f32>, var: Vec<f32>) -> Self {
        Moments { mean, var, act: Activation::None }
    }

    /// The same mean and variance on every one of `channels` channels.
    pub fn uniform(channels: usize, mean: f32, var: f32) -> Self {
        Moments::gaussian(vec![mean; channels], vec![var; channels])
    }

    /// Mean and variance of the activation itself, `act(z)`, per channel.
    pub fn materialize(&self) -> (Vec<f32>, Vec<f32>) {
        let (lo, hi) = match self.act {
            Activation::Relu => (0.0, f64::INFINITY),
            Activation::Relu6 => (0.0, 6.0),
            Activation::Clip { min, max } => (f64::from(min), f64::from(max)),
            _ => return (self.mean.clone(), self.var.clone()),
        };
        self.mean
            .iter()
            .zip(&self.var)
            .map(|(&m, &v)| {
                let (m, v) = clipped_gaussian(f64::from(m), f64::from(v).max(0.0).sqrt(), lo, hi);
                (m as f32, v as f32)
            })
            .unzip()
    }

    /// The activation itself as Gaussian channels (what a consumer that mixes channels or
    /// pixels linearly sees).
    pub fn materialized(&self) -> Moments {
        let (mean, var) = self.materialize();
        Moments::gaussian(mean, var)
    }

    /// Applies `act` on top (the identity keeps the moments; otherwise the current
    /// activation is materialized first).
    pub fn activate(&self, act: Activation) -> Moments {
        match (act, self.act) {
            (Activation::None, _) => self.clone(),
            (_, Activation::None) => Moments { act, ..self.clone() },
            _ => Moments { act, ..self.materialized() },
        }
    }

    /// Mean of the squared activation, averaged over channels.
    pub fn mean_square(&self) -> f32 {
        let (mean, var) = self.materialize();
        let total: f32 = mean.iter().zip(&var).map(|(m, v)| m * m + v).sum();
        total / mean.len().max(1) as f32
    }

    /// The average of `n` pixels (average pooling): the mean stays, the variance shrinks as
    /// for pixels with correlation [`PIXEL_CORRELATION`].
    pub fn average_of(&self, n: usize) -> Moments {
        let (mean, var) = self.materialize();
        let n = n.max(1) as f32;
        let shrink = 1.0 / n + (1.0 - 1.0 / n) * PIXEL_CORRELATION;
        Moments::gaussian(mean, var.iter().map(|v| v * shrink).collect())
    }

    /// The maximum of `n` independent copies, per channel (max pooling over `n` taps).
    pub fn max_of(&self, n: usize) -> Moments {
        if n <= 1 {
            return self.clone();
        }
        let (e, v) = max_of_standard_normals(n);
        let mean = self.mean.iter().zip(&self.var).map(|(&m, &s2)| m + s2.max(0.0).sqrt() * e as f32).collect();
        let var = self.var.iter().map(|&s2| s2 * v as f32).collect();
        // The activations are monotone: max(act(z_i)) = act(max(z_i)).
        Moments { mean, var, act: self.act }
    }
}

/// Where a convolution's taps land: for every tap, the fraction of output pixels for which
/// it falls inside the input (`coverage`), and for every pair of taps the fraction for
/// which both do (`overlap`). Zero padding feeds border pixels fewer taps, which lowers
/// their mean, and that spread of the mean over the pixels is variance too.
#[derive(Debug, Clone)]
pub(crate) struct TapOverlap {
    taps: usize,
    coverage: Vec<f32>,
    overlap: Vec<f32>,
}

impl TapOverlap {
    /// For a window of `kernel` taps moved by `stride` over an input of `in_hw` pixels with
    /// `pad_begin` (top, left) rows and columns of zero padding, giving `out_hw` pixels.
    pub fn new(
        in_hw: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        pad_begin: [usize; 2],
        out_hw: [usize; 2],
    ) -> Self {
        // Per axis: which taps are inside, for each output position.
        let axis = |i: usize| -> Vec<Vec<bool>> {
            (0..out_hw[i])
                .map(|o| {
                    (0..kernel[i])
                        .map(|k| (o * stride[i] + k).checked_sub(pad_begin[i]).is_some_and(|p| p < in_hw[i]))
                        .collect()
                })
                .collect()
        };
        // Fraction of positions along one axis where taps `a` and `b` are both inside.
        let both = |inside: &[Vec<bool>], a: usize, b: usize| -> f32 {
            inside.iter().filter(|row| row[a] && row[b]).count() as f32 / inside.len().max(1) as f32
        };
        let (rows, cols) = (axis(0), axis(1));
        let taps = kernel[0] * kernel[1];
        let mut overlap = vec![0.0f32; taps * taps];
        for t in 0..taps {
            for u in 0..taps {
                // The output grid is a product of the two axes, so the fractions multiply.
                overlap[t * taps + u] =
                    both(&rows, t / kernel[1], u / kernel[1]) * both(&cols, t % kernel[1], u % kernel[1]);
            }
        }
        let coverage = (0..taps).map(|t| overlap[t * taps + t]).collect();
        TapOverlap { taps, coverage, overlap }
    }
}

/// Moments of a convolution's output: `weights` is the OHWI kernel of `filters` outputs
/// over `per_group` input channels each (groups follow from the input's channel count).
///
/// Per output channel and pixel, the mean is `sum_t a_t + b` over the taps inside the
/// input, with `a_t = sum_c w[t, c] * mean_c`; over the pixels that has mean
/// `sum_t coverage_t * a_t + b` and spread `sum_tu overlap_tu * a_t * a_u - (...)^2`. The
/// variance adds `sum_t coverage_t * sum_c w[t, c]^2 * var_c` (inputs taken as independent).
pub(crate) fn conv(
    input: &Moments,
    weights: &[f32],
    bias: Option<&[f32]>,
    filters: usize,
    per_group: usize,
    taps: &TapOverlap,
) -> Moments {
    let per_group = per_group.max(1);
    let groups = (input.mean.len() / per_group).max(1);
    let filters_per_group = (filters / groups).max(1);
    let per_filter = taps.taps * per_group;
    let mut mean = vec![0.0f32; filters];
    let mut var = vec![0.0f32; filters];
    let mut tap_mean = vec![0.0f32; taps.taps];
    for (o, filter) in weights.chunks_exact(per_filter.max(1)).enumerate().take(filters) {
        let first = (o / filters_per_group) * per_group;
        let (Some(in_mean), Some(in_var)) =
            (input.mean.get(first..first + per_group), input.var.get(first..first + per_group))
        else {
            break;
        };
        let mut noise = 0.0f32;
        for ((tap, a), &cov) in filter.chunks_exact(per_group).zip(tap_mean.iter_mut()).zip(&taps.coverage) {
            let (mut m, mut v) = (0.0f32, 0.0f32);
            for ((&w, &im), &iv) in tap.iter().zip(in_mean).zip(in_var) {
                m += w * im;
                v += w * w * iv;
            }
            *a = m;
            noise += cov * v;
        }
        let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
        let centre: f32 = tap_mean.iter().zip(&taps.coverage).map(|(a, c)| a * c).sum();
        let mut square = 0.0f32;
        for (t, &a) in tap_mean.iter().enumerate() {
            let row = &taps.overlap[t * taps.taps..(t + 1) * taps.taps];
            square += a * row.iter().zip(&tap_mean).map(|(f, u)| f * u).sum::<f32>();
        }
        mean[o] = centre + b;
        var[o] = noise + (square - centre * centre).max(0.0);
    }
    Moments::gaussian(mean, var)
}

/// `1 - erf(x)`, with relative error below 1.2e-7 everywhere (a Chebyshev fit, Numerical
/// Recipes' `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Standard normal density.
fn pdf(x: f64) -> f64 {
    if x.is_infinite() { 0.0 } else { (-0.5 * x * x).exp() / (2.0 * PI).sqrt() }
}

/// Standard normal distribution function.
fn cdf(x: f64) -> f64 {
    0.5 * erfc(-x * FRAC_1_SQRT_2)
}

/// Mean and variance of `clamp(X, lo, hi)` for `X ~ N(m, s^2)` (`hi` may be infinite).
pub(crate) fn clipped_gaussian(m: f64, s: f64, lo: f64, hi: f64) -> (f64, f64) {
    if s < 1e-12 {
        return (m.clamp(lo, hi), 0.0);
    }
    let (a, b) = ((lo - m) / s, (hi - m) / s);
    let (pa, pb) = (cdf(a), cdf(b));
    let (da, db) = (pdf(a), pdf(b));
    let inside = pb - pa;
    // Contributions of the clipped tails; an infinite bound has no tail.
    let (hi_mass, hi_sq, b_db) =
        if hi.is_finite() { (hi * (1.0 - pb), hi * hi * (1.0 - pb), b * db) } else { (0.0, 0.0, 0.0) };
    let first = lo * pa + hi_mass + m * inside + s * (da - db);
    let second = lo * lo * pa + hi_sq + (m * m + s * s) * inside + 2.0 * m * s * (da - db) + s * s * (a * da - b_db);
    (first, (second - first * first).max(0.0))
}

/// Mean and variance of the largest of `n` independent standard normals (trapezoidal
/// integration of `x * n * pdf(x) * cdf(x)^(n - 1)`).
pub(crate) fn max_of_standard_normals(n: usize) -> (f64, f64) {
    const STEPS: usize = 4000;
    let (lo, hi) = (-10.0, 10.0);
    let h = (hi - lo) / STEPS as f64;
    let exponent = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
    let (mut first, mut second) = (0.0, 0.0);
    for i in 0..=STEPS {
        let x = lo + h * i as f64;
        let weight = if i == 0 || i == STEPS { 0.5 } else { 1.0 };
        let density = n as f64 * pdf(x) * cdf(x).powi(exponent);
        first += weight * x * density;
        second += weight * x * x * density;
    }
    let (first, second) = (first * h, second * h);
    (first, second - first * first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn distribution_function_matches_known_values() {
        // Tabulated values of the standard normal distribution function.
        assert!(close(cdf(0.0), 0.5, 1e-7));
        assert!(close(cdf(1.0), 0.841_344_746, 1e-7));
        assert!(close(cdf(-1.959_963_985), 0.025, 1e-7));
        assert!(close(cdf(3.0), 0.998_650_102, 1e-7));
    }

    #[test]
    fn relu_of_standard_normal() {
        // E[max(X, 0)] = 1 / sqrt(2 pi), E[max(X, 0)^2] = 1 / 2.
        let (m, v) = clipped_gaussian(0.0, 1.0, 0.0, f64::INFINITY);
        let mean = 1.0 / (2.0 * PI).sqrt();
        assert!(close(m, mean, 1e-7));
        assert!(close(v, 0.5 - mean * mean, 1e-7));
    }

    #[test]
    fn clipping_far_outside_is_constant_and_far_inside_is_identity() {
        let (m, v) = clipped_gaussian(50.0, 1.0, 0.0, 6.0);
        assert!(close(m, 6.0, 1e-9) && v < 1e-9);
        let (m, v) = clipped_gaussian(3.0, 0.01, 0.0, 6.0);
        assert!(close(m, 3.0, 1e-9) && close(v, 1e-4, 1e-9));
    }

    #[test]
    fn relu6_against_numeric_integration() {
        let (m, s) = (1.5, 2.0);
        let (mut first, mut second) = (0.0, 0.0);
        let h = 1e-3;
        for i in 0..40_000 {
            let x = m - 20.0 * s + (i as f64 + 0.5) * h * s;
            let y = x.clamp(0.0, 6.0);
            let p = pdf((x - m) / s) * h;
            first += y * p;
            second += y * y * p;
        }
        let (cm, cv) = clipped_gaussian(m, s, 0.0, 6.0);
        assert!(close(cm, first, 1e-6), "{cm} vs {first}");
        assert!(close(cv, second - first * first, 1e-6), "{cv} vs {}", second - first * first);
    }

    #[test]
    fn maximum_of_normals() {
        // Max of two: mean 1 / sqrt(pi), E[max^2] = 1. Max of one: N(0, 1).
        let (e, v) = max_of_standard_normals(2);
        assert!(close(e, 1.0 / PI.sqrt(), 1e-6) && close(v, 1.0 - 1.0 / PI, 1e-6));
        let (e, v) = max_of_standard_normals(1);
        assert!(close(e, 0.0, 1e-6) && close(v, 1.0, 1e-6));
        // Tabulated expected maximum of 9 standard normals.
        let (e, _) = max_of_standard_normals(9);
        assert!(close(e, 1.485_0, 1e-3), "{e}");
    }
}

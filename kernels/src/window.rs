//! Clipping a sliding window to the input: which taps of a window land inside it. Shared by
//! the windowed kernels (depthwise convolution, pooling).

use ferrolite_macros::dsl_fn;
use ferrolite_targets::Simd;

/// The first tap `i` of a window whose taps sit at `start + i * d` (`start` may be negative,
/// in the padding) that lies at position 0 or after.
#[dsl_fn]
pub fn first_tap<V: Simd>(start: isize, d: usize) -> usize {
    let mut i = 0;
    if start < 0 {
        i = ((0 - start) as usize + d - 1) / d;
    }
    i
}

/// One past the last of the window's `k` taps at `start + i * d` that lies before `n`.
#[dsl_fn]
pub fn end_tap<V: Simd>(start: isize, n: usize, d: usize, k: usize) -> usize {
    let mut i = 0;
    if start < n as isize {
        i = ((n as isize - 1 - start) as usize / d + 1).min(k);
    }
    i
}

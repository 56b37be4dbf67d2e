// Kernel parameters cannot be `mut`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], mut n: usize) {
    n = n + 1;
    y[0] = n as f32;
}

fn main() {}

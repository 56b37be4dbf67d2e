// Methods: min, max, abs, sqrt, exp, floor, ceil, tanh, len.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    y[0] = a.powi(2);
}

fn main() {}

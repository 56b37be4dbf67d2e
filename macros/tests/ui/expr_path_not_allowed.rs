// Paths are limited to V::LANES and f32 constants.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    y[0] = std::f32::consts::PI;
}

fn main() {}

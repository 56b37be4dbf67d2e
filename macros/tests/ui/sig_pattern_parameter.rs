// Kernel parameters are plain names, not patterns.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], [a, b]: [f32; 2]) {
    y[0] = a + b;
}

fn main() {}

// Inputs (`&[f32]`) are read-only: store into an output.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    x[0] = a;
}

fn main() {}

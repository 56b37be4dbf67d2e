// Stage parameters go gid, outputs, inputs, scalars.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], n: usize, x: &[f32]) {
    y[0] = x[n];
}

fn main() {}

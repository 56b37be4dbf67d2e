// Parameter types are the subset's: no Vec, no other element types.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f64]) {
    y[0] = 0.0;
}

fn main() {}

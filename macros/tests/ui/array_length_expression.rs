// Array lengths are literals or const parameters, not expressions.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let acc = [0.0; 2 + 2];
}

fn main() {}

// A stage writes at least one output.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, x: &[f32], n: usize) {
    let v = x[n];
}

fn main() {}

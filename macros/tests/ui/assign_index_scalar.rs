// Only arrays and slices can be indexed.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let mut v = a;
    v[0] = 1.0;
}

fn main() {}

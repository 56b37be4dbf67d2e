// `s[a..b]` is no value: sub-slices are `&s[a..b]` arguments.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = x[0..4];
}

fn main() {}

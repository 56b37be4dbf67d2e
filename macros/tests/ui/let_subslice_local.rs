// Sub-slices are only arguments of V::load/V::store or loop sources.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let s = &x[0..4];
}

fn main() {}

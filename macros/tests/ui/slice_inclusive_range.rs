// Sub-slices use half-open ranges `a..b`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = V::load_partial(&x[0..=3]);
    V::store(&mut y[0..], v);
}

fn main() {}

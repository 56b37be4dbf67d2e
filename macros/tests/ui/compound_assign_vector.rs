// `+=` and friends work on integers and f32; vectors use V::add.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let mut v = V::zero();
    v += V::splat(a);
    V::store(&mut y[0..], v);
}

fn main() {}

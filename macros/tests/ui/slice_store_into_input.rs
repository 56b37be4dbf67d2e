// V::store needs an output slice (`&mut y[i..]`).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    V::store(&x[0..], V::zero());
}

fn main() {}

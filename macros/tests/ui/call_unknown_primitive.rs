// Only the Simd trait's primitives can be called on V.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = V::gather(&x[0..], n);
    V::store(&mut y[0..], v);
}

fn main() {}

// Sub-slice bounds are usize.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let i: i32 = 2;
    let v = V::load(&x[i..]);
    V::store(&mut y[0..], v);
}

fn main() {}

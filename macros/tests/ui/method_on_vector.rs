// Scalar methods do not apply to V::F32.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = V::splat(a).sqrt();
}

fn main() {}

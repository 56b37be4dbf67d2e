// Primitives take a fixed number of arguments.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = V::fma(V::splat(a), V::splat(a));
    V::store(&mut y[0..], v);
}

fn main() {}

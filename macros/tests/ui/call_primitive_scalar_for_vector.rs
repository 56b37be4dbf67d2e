// A V::F32 argument given a scalar (use V::splat).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = V::add(V::load(&x[0..]), a);
    V::store(&mut y[0..], v);
}

fn main() {}

// `+ - * /` are for scalars; vectors use V::add, V::mul, ...
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = V::splat(a) + V::zero();
}

fn main() {}

// A `let` needs a value (V::store returns nothing).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let r = V::store(&mut y[0..], V::zero());
}

fn main() {}

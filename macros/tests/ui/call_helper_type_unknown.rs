// A helper's result type must be known: annotate the `let`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = activate(V::load(&x[0..]));
    V::store(&mut y[0..], v);
}

fn main() {}

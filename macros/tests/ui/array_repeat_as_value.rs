// `[value; N]` is only the initial value of a `let`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let mut acc = [0.0; 4];
    acc = [1.0; 4];
}

fn main() {}

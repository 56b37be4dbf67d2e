// A local cannot reuse a parameter's name.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let n = 3;
    y[0] = a;
}

fn main() {}

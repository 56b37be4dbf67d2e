// A `let` type is one of the subset's types.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v: u8 = 3;
    y[0] = a;
}

fn main() {}

// An annotated `let` must match its value's type (no implicit conversion).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v: f32 = n;
    y[0] = v;
}

fn main() {}

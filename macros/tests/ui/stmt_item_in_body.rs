// No items (fn, struct, use, const) inside a kernel body.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    const HALF: f32 = 0.5;
    y[0] = HALF;
}

fn main() {}

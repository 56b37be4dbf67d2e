// Shadowing is not allowed (OpenCL C has none).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = a;
    let v = v * 2.0;
    y[0] = v;
}

fn main() {}

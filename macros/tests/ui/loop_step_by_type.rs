// `step_by` takes a usize.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let s: i32 = 2;
    for i in (0..n).step_by(s) {
        y[0] = a;
    }
}

fn main() {}

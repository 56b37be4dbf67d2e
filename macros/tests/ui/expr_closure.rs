// No closures: write a #[dsl_fn] helper.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let twice = |v: f32| v * 2.0;
    y[0] = a;
}

fn main() {}

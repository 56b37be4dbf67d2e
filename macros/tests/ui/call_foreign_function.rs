// Only V::primitive(..) and #[dsl_fn] helpers by plain name are called.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    y[0] = f32::max(a, 0.0);
}

fn main() {}

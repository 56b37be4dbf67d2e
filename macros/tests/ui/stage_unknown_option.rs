// The only option of #[stage] / #[dsl_fn] is `debug`.
use ferrolite_macros::stage;

#[stage(fast)]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32]) {
    y[0] = 0.0;
}

fn main() {}

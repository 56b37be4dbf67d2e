// A #[dsl_fn] helper returns a scalar or V::F32.
use ferrolite_macros::dsl_fn;

#[dsl_fn]
pub fn pair<V: ferrolite_targets::Simd>(a: f32) -> [f32; 2] {
    [a; 2]
}

fn main() {}

// Generics: `V: Simd`, then only `const NAME: usize`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd, T: Copy>(gid: usize, y: &mut [f32]) {
    y[0] = 0.0;
}

fn main() {}

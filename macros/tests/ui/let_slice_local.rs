// Slices cannot be bound to locals.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let s = x;
    y[0] = s[0];
}

fn main() {}

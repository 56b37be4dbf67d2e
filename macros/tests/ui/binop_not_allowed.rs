// Arithmetic, comparison and logical operators only (no bit operations).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let m = n << 2;
}

fn main() {}

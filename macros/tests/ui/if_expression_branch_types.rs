// Both branches of an `if` value have one type.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let m = if n > 2 { a } else { n };
}

fn main() {}

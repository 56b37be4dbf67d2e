// Statements (assignment, loops, break) are not values.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let mut v = a;
    let w = (v = 2.0);
}

fn main() {}

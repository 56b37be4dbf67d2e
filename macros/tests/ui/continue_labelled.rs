// Only a plain `continue;` (no labels).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    for i in 0..n {
        continue 'outer;
    }
}

fn main() {}

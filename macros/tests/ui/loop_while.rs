// No `while`: every loop has a known trip count (`for i in a..b`).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let mut i = 0;
    while i < n {
        i += 1;
    }
}

fn main() {}

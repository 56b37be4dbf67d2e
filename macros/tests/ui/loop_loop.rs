// No `loop`: every loop has a known trip count.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    loop {
        y[0] = a;
    }
}

fn main() {}

// One name per chunked slice.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    for (c, d) in x.chunks_exact(4) {
        y[0] = a;
    }
}

fn main() {}

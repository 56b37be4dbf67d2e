// Anything else outside the subset (here an async block) is refused.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let f = async { a };
}

fn main() {}

// `let` binds one plain name.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let (i, j) = (n, n + 1);
}

fn main() {}

// A kernel is a plain `fn` (not unsafe, const, async or extern).
use ferrolite_macros::stage;

#[stage]
pub unsafe fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32]) {
    y[0] = 0.0;
}

fn main() {}

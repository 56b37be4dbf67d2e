// The first parameter of a stage is `gid: usize`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(y: &mut [f32], gid: usize) {
    y[0] = 0.0;
}

fn main() {}

// Const parameters of a kernel are `usize`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd, const MR: u32>(gid: usize, y: &mut [f32]) {
    y[0] = 0.0;
}

fn main() {}

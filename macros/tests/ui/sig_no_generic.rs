// A kernel needs the ISA type parameter `V: Simd`.
use ferrolite_macros::stage;

#[stage]
pub fn k(gid: usize, y: &mut [f32]) {
    y[0] = 0.0;
}

fn main() {}

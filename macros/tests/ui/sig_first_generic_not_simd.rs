// The first generic parameter of a kernel is `V: Simd`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: Copy>(gid: usize, y: &mut [f32]) {
    y[0] = 0.0;
}

fn main() {}

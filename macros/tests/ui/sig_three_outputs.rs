// A stage writes one or two outputs.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, a: &mut [f32], b: &mut [f32], c: &mut [f32]) {
    a[0] = 0.0;
    b[0] = 0.0;
    c[0] = 0.0;
}

fn main() {}

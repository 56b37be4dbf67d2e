// Stages take outputs, inputs and scalars; V::F32 parameters are for helpers.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], v: V::F32) {
    V::store(&mut y[0..], v);
}

fn main() {}

// Loop sources: ranges, step_by, chunks_exact and their zip.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    for v in x.iter() {
        y[0] = a;
    }
}

fn main() {}

use ferrolite_macros::stage;
use ferrolite_targets::Simd;

#[stage]
pub fn fill<V: Simd>(gid: usize, y: &mut [f32]) {
    let mut i = 0;
    while i < y.len() {
        y[i] = 0.0;
        i += 1;
    }
}

fn main() {}

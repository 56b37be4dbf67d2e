// An `if` value has one expression per branch.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let m = if n > 2 {
        let t = a * 2.0;
        t
    } else {
        a
    };
}

fn main() {}

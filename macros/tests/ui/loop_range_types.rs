// Both ends of a range have one integer type.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let m: i32 = 4;
    for i in n..m {
        y[0] = a;
    }
}

fn main() {}

// No `match`: use `if` / `else if`.
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    let v = match n {
        0 => a,
        _ => 0.0,
    };
    y[0] = v;
}

fn main() {}

// No macros in a kernel body (println!, assert!, ...).
use ferrolite_macros::stage;

#[stage]
pub fn k<V: ferrolite_targets::Simd>(gid: usize, y: &mut [f32], x: &[f32], n: usize, a: f32) {
    println!("{}", n);
    y[0] = a;
}

fn main() {}

// No `where` clauses on a kernel.
use ferrolite_macros::stage;

#[stage]
pub fn k<V>(gid: usize, y: &mut [f32])
where
    V: ferrolite_targets::Simd,
{
    y[0] = 0.0;
}

fn main() {}

// An algorithm module needs `fn schedule`.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    pub fn workspace(s: &Sig, p: &Params) -> usize {
        0
    }
}

fn main() {}

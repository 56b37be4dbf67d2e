// A launch writes an output.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, ins [x], args [1024]);
    }
}

fn main() {}

// Output ranges have both ends: y[a..b].
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y[16..] => 1024], ins [x], args [1024]);
    }
}

fn main() {}

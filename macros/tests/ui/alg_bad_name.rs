// Algorithm names are lower-case letters, digits and `_` (they are part of ids).
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "Copy-Fast", targets(scalar))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

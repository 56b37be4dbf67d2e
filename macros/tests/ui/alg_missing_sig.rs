// #[algorithm] needs `sig`.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, name = "copy", targets(scalar))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

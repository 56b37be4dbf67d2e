// combos(...) combines compile-time parameters, so there must be some.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar), combos([1]))]
pub mod alg {
    #[param(runtime, values = [1, 2])]
    pub const ROWS: usize = 1;

    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

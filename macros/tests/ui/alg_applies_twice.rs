// A field is constrained once in `applies(...)`.
use ferrolite_macros::algorithm;

#[algorithm(op = Conv2d, sig = Sig, name = "wino", targets(scalar), applies(groups = 1, groups = 1))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

// Two `applies` constraints on one field that can never both hold.
use ferrolite_macros::algorithm;

#[algorithm(op = Conv2d, sig = Sig, name = "wino", targets(scalar), applies(stride = [1, 1], stride = [2, 2]))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

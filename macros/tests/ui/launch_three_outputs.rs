// A stage writes at most two outputs.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y0 => 64, y1 => 64, y2 => 64], ins [x], args [1024]);
    }
}

fn main() {}

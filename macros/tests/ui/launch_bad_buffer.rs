// Buffers are x/x0.., y/y0.., w, ws[a..b].
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [input], args [1024]);
    }
}

fn main() {}

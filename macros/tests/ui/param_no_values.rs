// A #[param] lists its values.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    #[param(runtime)]
    pub const BLOCK: usize = 64;

    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

// `id` has exactly one `{}`.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    #[param(compile, values = [2, 4, 6], id = "f3")]
    pub const M: usize = 4;

    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

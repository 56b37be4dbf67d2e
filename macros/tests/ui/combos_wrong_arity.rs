// A combination has one value per compile-time parameter, in declaration order.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2), combos([6, 2], [4]))]
pub mod alg {
    #[param(compile, values = [4, 6, 8], id = "mr{}")]
    pub const MR: usize = 6;

    #[param(compile, values = [1, 2], id = "nv{}")]
    pub const NV: usize = 2;

    pub fn schedule(s: &Sig, p: &Params) {
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

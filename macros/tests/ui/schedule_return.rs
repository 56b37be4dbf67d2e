// No `return` in a schedule: structure it with `if`.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar, avx2))]
pub mod alg {
    pub fn schedule(s: &Sig, p: &Params) {
        if s.len == 0 {
            return;
        }
        launch!(copy, outs [y => 1024], ins [x], args [1024]);
    }
}

fn main() {}

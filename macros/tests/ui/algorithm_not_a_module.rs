// #[algorithm] applies to an inline module.
use ferrolite_macros::algorithm;

#[algorithm(op = Unary, sig = Sig, name = "copy", targets(scalar))]
pub fn schedule() {}

fn main() {}

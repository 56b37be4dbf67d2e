// #[stage] applies to functions only.
use ferrolite_macros::stage;

#[stage]
pub struct Tile {
    pub len: usize,
}

fn main() {}

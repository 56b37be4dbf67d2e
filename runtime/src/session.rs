//! (in progress)
use std::sync::Arc;
use crate::{Model, Tensor, TensorView};
/// Options.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions { /// Threads.
 pub threads: usize }
/// A session.
#[derive(Debug)]
pub struct Session;
impl Session {
    /// New.
    pub fn new(_m: Arc<Model>, _o: SessionOptions) -> crate::Result<Session> { Ok(Session) }
    /// Run.
    pub fn run(&mut self, _i: &[TensorView<'_>]) -> crate::Result<Vec<Tensor>> { Ok(vec![]) }
}

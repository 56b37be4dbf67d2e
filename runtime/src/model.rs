//! (in progress)
use crate::ir::{DType, Dim};
/// Name, dtype and declared shape of a model input or output.
#[derive(Debug, Clone)]
pub struct IoInfo { /// Name.
 pub name: String, /// Type.
 pub dtype: DType, /// Shape.
 pub shape: Vec<Dim> }
/// A loaded model.
#[derive(Debug)]
pub struct Model;
impl Model {
    /// Loads a file.
    pub fn load(_p: impl AsRef<std::path::Path>) -> crate::Result<Model> { Err(crate::Error::Unsupported("wip".into())) }
}

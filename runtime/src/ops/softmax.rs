//! (in progress)
#![allow(unused)]
use super::{Fact, OutFact};
use crate::ir::*;
use crate::kernel::KernelRegistry;
pub(super) fn infer_softmax(_a: i64, _i: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> { Err("not written".into()) }
pub(super) fn register(_r: &mut KernelRegistry) {}

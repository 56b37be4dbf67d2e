//! (in progress)
#![allow(unused)]
use super::{Fact, OutFact};
use crate::ir::*;
use crate::kernel::KernelRegistry;
pub(super) fn infer_reduce(_a: &Reduce, _i: &[Option<Fact<'_>>]) -> Result<Vec<OutFact>, String> { Err("not written".into()) }
pub(super) fn register(_r: &mut KernelRegistry) {}

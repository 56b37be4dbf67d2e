//! # Ferrolite runtime
//!
//! The part of Ferrolite an application links: it loads `.flm` models (weights
//! memory-mapped, every offset checked), plans a kernel per node and an activation arena
//! from tensor lifetimes, and runs the graph on the session's thread pool.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ferrolite_runtime::{Model, Session, SessionOptions, TensorView};
//!
//! let model = Arc::new(Model::load("mobilenet_v2.flm")?);
//! let mut session = Session::new(model.clone(), SessionOptions::new().with_threads(2))?;
//! let pixels = vec![0.5f32; 224 * 224 * 3];
//! let input = TensorView::from_slice(&[1, 224, 224, 3], &pixels)?;
//! let outputs = session.run(&[input])?;
//! println!("{:?}", outputs[0].shape());
//! # Ok::<(), ferrolite_runtime::Error>(())
//! ```
//!
//! Activations are NHWC; see [`ir`] for the operator set and canonical weight layouts, and
//! [`kernel`] for the interface kernels implement.
#![warn(missing_docs)]

pub mod format;
mod model;
pub mod ops;
pub mod plan;
pub mod profile;
pub mod select;
mod session;

pub use ferrolite_dsl::{Error, Result, error, ir, kernel, pool, tensor, variant};
pub use model::{IoInfo, Model, default_registry, full_registry};
pub use session::{Session, SessionOptions};
pub use tensor::{Tensor, TensorView, TensorViewMut};

/// Compiles the README's code blocks as doctests, so the documented API example stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

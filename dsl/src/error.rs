//! The runtime's error type.

/// Everything that can go wrong loading or running a model.
///
/// Messages name what is wrong and where: the byte offset in a `.flm` file, the node, or the
/// input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `.flm` file is truncated, corrupted or hostile.
    #[error("invalid .flm file: {what} (at byte {offset})")]
    Format {
        /// Byte offset in the file where the problem was found.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The graph is inconsistent (bad index, cycle, missing value, ...).
    #[error("invalid graph: {0}")]
    Graph(String),
    /// A node cannot be planned or run (shape mismatch, bad attribute, ...).
    #[error("{node}: {msg}")]
    Node {
        /// The node, as [`crate::ir::Graph::node_label`] prints it.
        node: String,
        /// What is wrong.
        msg: String,
    },
    /// The caller's inputs or output buffers do not fit the model.
    #[error("input error: {0}")]
    Input(String),
    /// An accelerator (an OpenCL device) failed: a program that does not build, a launch or
    /// a copy that the driver refuses, no device where one is needed.
    #[error("device error: {0}")]
    Device(String),
    /// Something the runtime does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// Result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::Node`] for `node`.
    pub fn node(node: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Node { node: node.into(), msg: msg.into() }
    }
}

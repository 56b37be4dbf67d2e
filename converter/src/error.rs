//! The converter's error type.

/// Why a model could not be converted. Messages name the source format, and for operator
/// problems the operator and the node.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The file is not a valid model of its format.
    #[error("{format}: cannot parse model: {msg}")]
    Parse {
        /// `ONNX` or `TFLite`.
        format: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// An operator, or an attribute value of one, that Ferrolite does not implement.
    #[error("{format}: unsupported {op} in node \"{node}\": {detail}")]
    Unsupported {
        /// `ONNX` or `TFLite`.
        format: &'static str,
        /// The source operator (`NonMaxSuppression`, `Conv`, ...).
        op: String,
        /// The node's name (or index when unnamed).
        node: String,
        /// What exactly is unsupported.
        detail: String,
    },
    /// The model is well-formed but inconsistent (missing tensor, bad attribute value, ...).
    #[error("{format}: invalid model: {msg}")]
    Invalid {
        /// `ONNX`, `TFLite` or `IR`.
        format: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// An error from the runtime (shape inference, evaluation, format).
    #[error(transparent)]
    Runtime(#[from] ferrolite_runtime::Error),
}

/// Result with [`ConvertError`].
pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

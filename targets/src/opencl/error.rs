//! The OpenCL backend's error type.

use opencl3::error_codes::{ClError, error_text};

/// What went wrong in the OpenCL backend.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenClError {
    /// An OpenCL API call returned an error code.
    #[error("{call} failed: {} ({code})", error_text(*.code))]
    Api {
        /// The OpenCL function (`clEnqueueNDRangeKernel`, ...).
        call: &'static str,
        /// The OpenCL error code (negative); -2000 means the OpenCL library could not be loaded.
        code: i32,
    },
    /// `clBuildProgram` failed: the compiler's log says why.
    #[error("OpenCL program build failed: {} ({code}) with options {options:?}; build log:\n{log}", error_text(*.code))]
    Build {
        /// The OpenCL error code (`CL_BUILD_PROGRAM_FAILURE`, `CL_INVALID_BUILD_OPTIONS`, ...).
        code: i32,
        /// The build options the program was compiled with.
        options: String,
        /// The device compiler's build log (empty when the device gave none).
        log: String,
    },
    /// The arguments given to a kernel do not match its parameters as the device compiler
    /// reports them (count, address space or type).
    #[error("kernel `{kernel}`: {detail}")]
    Signature {
        /// The kernel's name.
        kernel: String,
        /// Which argument and how it differs.
        detail: String,
    },
    /// A request the backend refuses before calling OpenCL: a range outside its buffer, a
    /// buffer or program of another context, a size that does not fit the kernel's `int`s, ...
    #[error("{0}")]
    Invalid(String),
}

impl OpenClError {
    /// The OpenCL error code, for the errors that have one.
    pub fn code(&self) -> Option<i32> {
        match self {
            OpenClError::Api { code, .. } | OpenClError::Build { code, .. } => Some(*code),
            OpenClError::Signature { .. } | OpenClError::Invalid(_) => None,
        }
    }

    /// The OpenCL name of the error code (`CL_OUT_OF_RESOURCES`, ...), for the errors that have one.
    pub fn code_name(&self) -> Option<&'static str> {
        self.code().map(error_text)
    }

    /// Wraps an error from `opencl3` with the OpenCL function that returned it.
    pub(crate) fn api(call: &'static str) -> impl FnOnce(ClError) -> OpenClError {
        move |e| OpenClError::Api { call, code: e.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_error() {
        let e = OpenClError::Api { call: "clCreateBuffer", code: -61 };
        assert_eq!(e.to_string(), "clCreateBuffer failed: CL_INVALID_BUFFER_SIZE (-61)");
        assert_eq!(e.code_name(), Some("CL_INVALID_BUFFER_SIZE"));
        let e = OpenClError::Build { code: -11, options: "-cl-std=CL1.2".into(), log: "error: x".into() };
        let s = e.to_string();
        assert!(s.contains("CL_BUILD_PROGRAM_FAILURE") && s.contains("-cl-std=CL1.2") && s.ends_with("error: x"), "{s}");
        assert_eq!(OpenClError::Invalid("bad".into()).code(), None);
    }
}

//! OpenCL host backend: device discovery, and running OpenCL C kernels on one device.
//!
//! The OpenCL library (`libOpenCL.so.1`, the ICD loader) is loaded at run time by `opencl3`'s
//! `dynamic` feature, never linked: a machine without OpenCL builds and runs everything
//! else, and [`devices`] simply finds nothing. `OPENCL_DYLIB_PATH` (`;`-separated paths)
//! points it at a library elsewhere.
//!
//! ```
//! use ferrolite_targets::opencl::{self, Context, KernelArg};
//!
//! # fn main() -> Result<(), opencl::OpenClError> {
//! let Some(device) = opencl::devices().into_iter().next() else { return Ok(()) };
//! let ctx = Context::new(&device)?;
//! let program = ctx.program(
//!     "__kernel void scale(int grid, __global float* y, int y_off, int y_len, float s) {
//!          int gid = get_global_id(0);
//!          if (gid < grid && gid < y_len) y[y_off + gid] *= s;
//!      }",
//!     "",
//! )?;
//! let y = ctx.buffer_from(&[1.0, 2.0, 3.0, 4.0])?;
//! let args = [KernelArg::I32(2), KernelArg::Range(y.range(1..3)?), KernelArg::F32(10.0)];
//! // SAFETY: the kernel touches only y[y_off .. y_off + y_len).
//! unsafe { ctx.launch(&program, "scale", 2, None, &args)? };
//! let mut out = [0.0; 4];
//! ctx.download(&y, 0, &mut out)?;
//! assert_eq!(out, [1.0, 20.0, 30.0, 4.0]);
//! # Ok(())
//! # }
//! ```

mod context;
mod device;
mod error;

pub use context::{BASE_BUILD_OPTIONS, Buffer, BufferRange, Context, KernelArg, Program};
pub use device::{DeviceInfo, DeviceType, devices, expected, try_devices};
pub use error::OpenClError;

//! Run-time support for the OpenCL variants the `#[algorithm]` macro generates.
//!
//! One process-wide OpenCL context on the first device that [`ferrolite_targets::opencl`]
//! finds, made on first use and kept: programs built on it are cached by source and build
//! options, so each stage is compiled once per set of compile-time parameters, whichever
//! kernel or session launches it.
//!
//! A generated OpenCL kernel uploads its packed weights once, when it is built
//! ([`DeviceWeights`]). Each run makes a [`ClBuffers`]: node inputs are uploaded when a
//! launch first reads them, node outputs and the workspace live on the device; the
//! schedule's launches run in order on the context's in-order queue (each stage's
//! `launch_opencl`, which calls [`ClBuffers::launch`]), and [`ClBuffers::finish`] copies
//! the outputs back. Launches are checked as on the CPU ([`BufferLens::check`]: ranges
//! inside their buffers, no output overlapping another buffer of the launch).
//!
//! Without the `opencl` feature the variants are still registered, but no device is ever
//! available and building one is an error.

use crate::error::{Error, Result};
use crate::kernel::KernelIo;
use crate::launch::Buf;

/// A scalar argument of a stage's OpenCL kernel: `int` or `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClScalar {
    /// An `int` parameter (the stage's `usize`, `isize`, `i32` and `bool` scalars).
    Int(i32),
    /// A `float` parameter.
    Float(f32),
}

/// A stage scalar as its OpenCL kernel argument. Integers that do not fit the kernel's
/// `int` are an error naming the parameter, never truncated.
pub trait IntoClScalar: Copy {
    /// The argument for the stage parameter `name`.
    fn into_cl(self, name: &str) -> Result<ClScalar>;
}

fn too_large(name: &str, v: impl std::fmt::Display) -> Error {
    Error::Device(format!("OpenCL kernel argument `{name}` = {v} does not fit an OpenCL int"))
}

impl IntoClScalar for usize {
    fn into_cl(self, name: &str) -> Result<ClScalar> {
        i32::try_from(self).map(ClScalar::Int).map_err(|_| too_large(name, self))
    }
}

impl IntoClScalar for isize {
    fn into_cl(self, name: &str) -> Result<ClScalar> {
        i32::try_from(self).map(ClScalar::Int).map_err(|_| too_large(name, self))
    }
}

impl IntoClScalar for i32 {
    fn into_cl(self, _name: &str) -> Result<ClScalar> {
        Ok(ClScalar::Int(self))
    }
}

impl IntoClScalar for f32 {
    fn into_cl(self, _name: &str) -> Result<ClScalar> {
        Ok(ClScalar::Float(self))
    }
}

impl IntoClScalar for bool {
    fn into_cl(self, _name: &str) -> Result<ClScalar> {
        Ok(ClScalar::Int(i32::from(self)))
    }
}

#[cfg(feature = "opencl")]
mod imp {
    use std::sync::OnceLock;

    use ferrolite_targets::opencl::{Buffer, BufferRange, Context, KernelArg, OpenClError};

    use super::*;
    use crate::launch::{BufferLens, grid};

    /// The process-wide context on the first OpenCL device, or why there is none.
    pub(super) fn context() -> Result<&'static Context> {
        static CONTEXT: OnceLock<std::result::Result<Context, String>> = OnceLock::new();
        let ctx = CONTEXT.get_or_init(|| {
            let devices = ferrolite_targets::opencl::try_devices().map_err(|e| format!("no OpenCL device: {e}"))?;
            let device = devices.first().ok_or_else(|| "no OpenCL device found".to_string())?;
            Context::new(device).map_err(|e| format!("OpenCL device `{}`: {e}", device.name))
        });
        ctx.as_ref().map_err(|e| Error::Device(e.clone()))
    }

    fn device_err(what: impl std::fmt::Display) -> impl FnOnce(OpenClError) -> Error {
        move |e| Error::Device(format!("OpenCL {what}: {e}"))
    }

    /// Packed weights on the device, uploaded once when a kernel is built.
    #[derive(Debug)]
    pub struct DeviceWeights {
        buffer: Buffer,
    }

    impl DeviceWeights {
        /// Uploads `packed` to the device (an empty buffer when there is nothing packed).
        pub fn upload(packed: &[f32]) -> Result<DeviceWeights> {
            let ctx = context()?;
            let buffer = ctx.buffer_from(packed).map_err(device_err("uploading packed weights"))?;
            Ok(DeviceWeights { buffer })
        }
    }

    /// The device buffers of one run of an OpenCL kernel, and the host buffers they are
    /// copied from and to.
    #[derive(Debug)]
    pub struct ClBuffers<'a> {
        ctx: &'static Context,
        host_inputs: Vec<Option<&'a [f32]>>,
        /// Node inputs on the device, uploaded by the first launch that reads them.
        inputs: Vec<Option<Buffer>>,
        host_outputs: Vec<&'a mut [f32]>,
        outputs: Vec<Buffer>,
        packed: &'a Buffer,
        workspace: Buffer,
    }

    impl<'a> ClBuffers<'a> {
        /// The buffers of one call: f32 inputs (others are `None`; signatures carry what
        /// kernels need of them), f32 outputs and a device workspace of `workspace`
        /// elements.
        pub fn new(io: KernelIo<'_, 'a>, packed: &'a DeviceWeights, workspace: usize) -> Result<ClBuffers<'a>> {
            let ctx = context()?;
            let KernelIo { inputs, outputs, .. } = io;
            let host_inputs: Vec<Option<&'a [f32]>> = inputs.iter().map(|v| v.and_then(|v| v.f32().ok())).collect();
            let host_outputs: Vec<&'a mut [f32]> = outputs
                .iter_mut()
                .map(|o| o.f32_mut().map_err(|e| Error::Graph(format!("kernel output: {e}"))))
                .collect::<Result<_>>()?;
            let outputs = host_outputs
                .iter()
                .enumerate()
                .map(|(i, o)| ctx.buffer(o.len()).map_err(device_err(format_args!("allocating output y{i}"))))
                .collect::<Result<Vec<_>>>()?;
            let workspace = ctx.buffer(workspace).map_err(device_err("allocating the workspace"))?;
            Ok(ClBuffers {
                ctx,
                inputs: host_inputs.iter().map(|_| None).collect(),
                host_inputs,
                host_outputs,
                outputs,
                packed: &packed.buffer,
                workspace,
            })
        }

        /// Runs kernel `kernel` of the program `source` (built with `options`, once per
        /// process) over one work-item per chunk of the first output: `outs` are the
        /// outputs with their chunk lengths, `ins` the inputs, then the scalars. With two
        /// outputs the grid is the smaller chunk count, as on the CPU.
        pub fn launch(
            &mut self,
            kernel: &str,
            source: &str,
            options: &str,
            outs: &[(Buf, usize)],
            ins: &[Buf],
            scalars: &[ClScalar],
        ) -> Result<()> {
            let out_bufs: Vec<Buf> = outs.iter().map(|(b, _)| b.clone()).collect();
            let lens = BufferLens {
                inputs: self.host_inputs.iter().map(|i| i.map(<[f32]>::len)).collect(),
                outputs: self.host_outputs.iter().map(|o| o.len()).collect(),
                workspace: self.workspace.len(),
            };
            lens.check(&out_bufs, ins)?;
            // Inputs read for the first time go to the device now.
            for b in ins {
                if let Buf::Input(k) = b {
                    let (Some(slot), Some(Some(host))) = (self.inputs.get_mut(*k), self.host_inputs.get(*k)) else {
                        return Err(Error::Graph(format!("kernel schedule: input x{k} is missing")));
                    };
                    if slot.is_none() {
                        *slot = Some(self.ctx.buffer_from(host).map_err(device_err(format_args!("uploading input x{k}")))?);
                    }
                }
            }
            let program = self.ctx.program(source, options).map_err(device_err(format_args!("program of `{kernel}`")))?;
            let chunks: Vec<usize> = outs.iter().map(|(_, c)| (*c).max(1)).collect();
            let grid_size = outs
                .iter()
                .zip(&chunks)
                .map(|((b, _), c)| grid(self.len_of(b), *c))
                .min()
                .unwrap_or(0);
            let int = |v: usize, what: &str| {
                i32::try_from(v).map(KernelArg::I32).map_err(|_| too_large(what, v))
            };
            let mut args: Vec<KernelArg<'_>> = Vec::with_capacity(1 + 2 * outs.len() + ins.len() + scalars.len());
            args.push(int(grid_size, "grid")?);
            for ((b, _), c) in outs.iter().zip(&chunks) {
                args.push(KernelArg::Range(self.range(b)?));
                args.push(int(*c, "chunk")?);
            }
            for b in ins {
                args.push(KernelArg::Range(self.range(b)?));
            }
            for s in scalars {
                args.push(match *s {
                    ClScalar::Int(v) => KernelArg::I32(v),
                    ClScalar::Float(v) => KernelArg::F32(v),
                });
            }
            // SAFETY: every buffer argument is a range checked to lie inside its device
            // buffer (`BufferRange`), outputs checked disjoint from each other and from the
            // inputs (`BufferLens::check`). The kernel is a DSL stage translated by
            // `ferrolite-macros`: it reads its inputs and writes its outputs only through
            // the (buffer, offset, length) it is given, each work-item writing its own chunk
            // `[gid * chunk, min((gid + 1) * chunk, total))` of each output, with the
            // indexing of the stage's Rust body, which runs bounds-checked on the CPU
            // variants over the same buffers and test cases (runtime/tests/variants.rs). The
            // launch waits for the kernel, so no buffer is used after this call.
            unsafe { self.ctx.launch(&program, kernel, grid_size, None, &args) }
                .map_err(device_err(format_args!("kernel `{kernel}`")))
        }

        /// Copies the outputs back to the host.
        pub fn finish(self) -> Result<()> {
            for (i, (host, dev)) in self.host_outputs.into_iter().zip(&self.outputs).enumerate() {
                self.ctx.download(dev, 0, host).map_err(device_err(format_args!("reading output y{i}")))?;
            }
            Ok(())
        }

        fn len_of(&self, b: &Buf) -> usize {
            match b {
                Buf::Input(k) => self.host_inputs.get(*k).copied().flatten().map_or(0, <[f32]>::len),
                Buf::Output(k) => self.outputs.get(*k).map_or(0, Buffer::len),
                Buf::OutputRange(_, r) | Buf::Workspace(r) => r.end.saturating_sub(r.start),
                Buf::Packed => self.packed.len(),
            }
        }

        fn range(&self, b: &Buf) -> Result<BufferRange<'_>> {
            let missing = || Error::Graph(format!("kernel schedule: no buffer {b:?}"));
            let r = match b {
                Buf::Input(k) => self.inputs.get(*k).and_then(Option::as_ref).map(Buffer::all).ok_or_else(missing)?,
                Buf::Output(k) => self.outputs.get(*k).map(Buffer::all).ok_or_else(missing)?,
                Buf::OutputRange(k, r) => {
                    let buf = self.outputs.get(*k).ok_or_else(missing)?;
                    buf.range(r.clone()).map_err(device_err(format_args!("y{k}")))?
                }
                Buf::Packed => self.packed.all(),
                Buf::Workspace(r) => self.workspace.range(r.clone()).map_err(device_err("workspace"))?,
            };
            Ok(r)
        }
    }
}

#[cfg(not(feature = "opencl"))]
mod imp {
    use std::convert::Infallible;
    use std::marker::PhantomData;

    use super::*;

    const NO_OPENCL: &str = "ferrolite-dsl was built without the `opencl` feature";

    /// Packed weights on the device: never made in a build without OpenCL.
    #[derive(Debug)]
    pub struct DeviceWeights {
        never: Infallible,
    }

    impl DeviceWeights {
        /// Always an error: this build has no OpenCL.
        pub fn upload(_packed: &[f32]) -> Result<DeviceWeights> {
            Err(Error::Device(NO_OPENCL.into()))
        }
    }

    /// The device buffers of one run: never made in a build without OpenCL.
    #[derive(Debug)]
    pub struct ClBuffers<'a> {
        never: Infallible,
        _host: PhantomData<&'a mut [f32]>,
    }

    impl<'a> ClBuffers<'a> {
        /// Never succeeds: a [`DeviceWeights`] cannot exist in this build.
        pub fn new(_io: KernelIo<'_, 'a>, packed: &'a DeviceWeights, _workspace: usize) -> Result<ClBuffers<'a>> {
            match packed.never {}
        }

        /// Unreachable: no [`ClBuffers`] exists in this build.
        pub fn launch(&mut self, _: &str, _: &str, _: &str, _: &[(Buf, usize)], _: &[Buf], _: &[ClScalar]) -> Result<()> {
            match self.never {}
        }

        /// Unreachable: no [`ClBuffers`] exists in this build.
        pub fn finish(self) -> Result<()> {
            match self.never {}
        }
    }
}

pub use imp::{ClBuffers, DeviceWeights};

/// Whether an OpenCL device is available to run OpenCL variants: the process-wide context
/// on the first device could be made (checked once, then remembered).
pub fn available() -> bool {
    #[cfg(feature = "opencl")]
    {
        imp::context().is_ok()
    }
    #[cfg(not(feature = "opencl"))]
    {
        false
    }
}

/// Why no OpenCL device is available (`None` when one is).
pub fn unavailable_reason() -> Option<String> {
    #[cfg(feature = "opencl")]
    {
        imp::context().err().map(|e| e.to_string())
    }
    #[cfg(not(feature = "opencl"))]
    {
        Some("ferrolite-dsl was built without the `opencl` feature".into())
    }
}

/// The name of the OpenCL device the variants run on, if there is one.
pub fn device_name() -> Option<String> {
    #[cfg(feature = "opencl")]
    {
        imp::context().ok().map(|c| c.device().name.clone())
    }
    #[cfg(not(feature = "opencl"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_convert_or_refuse() {
        assert_eq!(7usize.into_cl("k").unwrap(), ClScalar::Int(7));
        assert_eq!((-3isize).into_cl("k").unwrap(), ClScalar::Int(-3));
        assert_eq!(true.into_cl("f").unwrap(), ClScalar::Int(1));
        assert_eq!(0.5f32.into_cl("a").unwrap(), ClScalar::Float(0.5));
        let e = (i32::MAX as usize + 1).into_cl("len").unwrap_err().to_string();
        assert!(e.contains("`len`") && e.contains("does not fit an OpenCL int"), "{e}");
        assert!((i32::MIN as isize - 1).into_cl("off").is_err());
    }

    #[test]
    fn availability_is_consistent() {
        // Whatever this machine has, the three views of it agree.
        assert_eq!(available(), unavailable_reason().is_none());
        assert_eq!(available(), device_name().is_some());
        if ferrolite_targets::opencl::expected().unwrap() {
            assert!(available(), "FERROLITE_EXPECT_OPENCL=1 but: {}", unavailable_reason().unwrap_or_default());
        }
    }
}

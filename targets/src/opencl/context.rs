//! One OpenCL device in use: its context and command queue, the programs built for it,
//! buffers, and kernel launches.

use std::collections::HashMap;
use std::ops::Range;
use std::ptr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use opencl3::command_queue::CommandQueue;
use opencl3::error_codes::{CL_BUILD_PROGRAM_FAILURE, CL_INVALID_KERNEL_NAME, CL_KERNEL_ARG_INFO_NOT_AVAILABLE};
use opencl3::kernel::{CL_KERNEL_ARG_ADDRESS_GLOBAL, Kernel};
use opencl3::memory::{Buffer as ClBuffer, CL_MEM_READ_WRITE, ClMem};
use opencl3::types::{CL_BLOCKING, cl_mem};

use super::{DeviceInfo, OpenClError};

/// Build options every program gets, before the caller's: OpenCL C 1.2 (what every device
/// that Ferrolite targets accepts, mobile GPUs included), and argument info so that launches
/// can check their arguments against the kernel's parameters. Floating point stays IEEE:
/// no `-cl-fast-relaxed-math`, the variants must match the CPU ones.
pub const BASE_BUILD_OPTIONS: &str = "-cl-std=CL1.2 -cl-kernel-arg-info";

/// Work-group size used when the caller does not choose one: small enough for every GPU
/// and kernel we generate, large enough to fill a SIMD unit.
const DEFAULT_LOCAL_SIZE: usize = 64;

/// Distinguishes contexts, so a buffer or program of one is refused by another instead of
/// reaching the driver (which may not check).
static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One OpenCL device in use: context, in-order command queue, and the programs built on it.
///
/// Every call waits for its work to finish, so results are ready when it returns and no
/// host memory is used by the device after a call. `Context` is `Send + Sync`; calls from
/// several threads are serialized by the in-order queue.
#[derive(Debug)]
pub struct Context {
    id: u64,
    device: DeviceInfo,
    // Fields drop in order: the queue and programs before the context they belong to.
    queue: CommandQueue,
    programs: Mutex<HashMap<ProgramKey, Arc<Program>>>,
    builds: AtomicUsize,
    context: opencl3::context::Context,
}

/// A program is identified by its whole source and options, not a hash of them: two
/// programs can never be confused.
type ProgramKey = (String, String);

impl Context {
    /// Opens the device: creates a context and an in-order command queue on it.
    pub fn new(device: &DeviceInfo) -> Result<Context, OpenClError> {
        let context =
            opencl3::context::Context::from_device(&device.device).map_err(OpenClError::api("clCreateContext"))?;
        let queue = CommandQueue::create_default(&context, 0).map_err(OpenClError::api("clCreateCommandQueue"))?;
        Ok(Context {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            device: device.clone(),
            queue,
            programs: Mutex::new(HashMap::new()),
            builds: AtomicUsize::new(0),
            context,
        })
    }

    /// The device this context runs on.
    pub fn device(&self) -> &DeviceInfo {
        &self.device
    }

    /// Compiles `source` with [`BASE_BUILD_OPTIONS`] followed by `options` (`-DMR=6 ...`),
    /// or returns the program already built from the same source and options.
    ///
    /// A compile error comes back as [`OpenClError::Build`] with the compiler's log.
    pub fn program(&self, source: &str, options: &str) -> Result<Arc<Program>, OpenClError> {
        if source.contains('\0') || options.contains('\0') {
            return Err(OpenClError::Invalid("OpenCL program source or build options contain a NUL byte".into()));
        }
        // Held while building: a second thread asking for the same program waits for the
        // first build instead of compiling it again.
        let mut programs = lock(&self.programs);
        let key = (source.to_string(), options.to_string());
        if let Some(p) = programs.get(&key) {
            return Ok(Arc::clone(p));
        }
        let full_options = format!("{BASE_BUILD_OPTIONS} {options}");
        let mut program = opencl3::program::Program::create_from_source(&self.context, source)
            .map_err(OpenClError::api("clCreateProgramWithSource"))?;
        self.builds.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = program.build(&[self.device.device.id()], &full_options) {
            // The log explains CL_BUILD_PROGRAM_FAILURE; for other codes
            // (CL_INVALID_BUILD_OPTIONS, ...) it is usually empty but still worth showing.
            let log = program.get_build_log(self.device.device.id()).unwrap_or_default();
            let log = if log.trim().is_empty() && e.0 == CL_BUILD_PROGRAM_FAILURE {
                "(the device compiler gave no log)".to_string()
            } else {
                log
            };
            return Err(OpenClError::Build { code: e.0, options: full_options, log });
        }
        let program = Arc::new(Program {
            context_id: self.id,
            options: full_options,
            program,
            kernels: Mutex::new(HashMap::new()),
        });
        programs.insert(key, Arc::clone(&program));
        Ok(program)
    }

    /// How many programs this context has compiled (cache misses), for tests and statistics.
    pub fn programs_built(&self) -> usize {
        self.builds.load(Ordering::Relaxed)
    }

    /// A device buffer of `len` f32 elements, zero-filled.
    pub fn buffer(&self, len: usize) -> Result<Buffer, OpenClError> {
        let bytes = len
            .checked_mul(size_of::<f32>())
            .filter(|&b| b as u64 <= self.device.max_alloc_bytes)
            .ok_or_else(|| {
                OpenClError::Invalid(format!(
                    "a buffer of {len} f32 elements is larger than the device's largest allocation ({} bytes)",
                    self.device.max_alloc_bytes
                ))
            })?;
        // OpenCL refuses zero-sized buffers; an empty one still needs a handle to pass.
        let count = len.max(1);
        // SAFETY: no host pointer is given (null, and no USE/COPY_HOST_PTR flag), so the
        // driver allocates and owns the memory; the context is alive for the call.
        let mut mem = unsafe { ClBuffer::<f32>::create(&self.context, CL_MEM_READ_WRITE, count, ptr::null_mut()) }
            .map_err(OpenClError::api("clCreateBuffer"))?;
        let zero = [0.0f32];
        // SAFETY: the pattern is one f32 read during the call; `bytes` is a multiple of the
        // pattern size and within the buffer just created with `count >= len` elements. We
        // wait for the fill before returning, so nothing refers to `zero` afterwards.
        let fill = unsafe { self.queue.enqueue_fill_buffer(&mut mem, &zero, 0, bytes.max(4), &[]) }
            .map_err(OpenClError::api("clEnqueueFillBuffer"))?;
        fill.wait().map_err(OpenClError::api("clWaitForEvents(fill)"))?;
        Ok(Buffer { context_id: self.id, len, mem })
    }

    /// A device buffer holding a copy of `data`.
    pub fn buffer_from(&self, data: &[f32]) -> Result<Buffer, OpenClError> {
        let mut buffer = self.buffer(data.len())?;
        self.upload(&mut buffer, 0, data)?;
        Ok(buffer)
    }

    /// Copies `data` into `buffer` starting at element `offset`; returns when the copy is done.
    pub fn upload(&self, buffer: &mut Buffer, offset: usize, data: &[f32]) -> Result<(), OpenClError> {
        self.check_buffer(buffer)?;
        let range = buffer.range(offset..offset.saturating_add(data.len()))?;
        if data.is_empty() {
            return Ok(());
        }
        let byte_offset = range.offset * size_of::<f32>();
        // SAFETY: blocking write (CL_BLOCKING): the driver has finished reading `data`
        // when the call returns, and `data` is borrowed for the whole call. The destination
        // range [offset, offset + data.len()) was checked to lie inside the buffer.
        unsafe { self.queue.enqueue_write_buffer(&mut buffer.mem, CL_BLOCKING, byte_offset, data, &[]) }
            .map_err(OpenClError::api("clEnqueueWriteBuffer"))?;
        Ok(())
    }

    /// Copies elements `offset..offset + out.len()` of `buffer` into `out`, after every
    /// launch before it has finished.
    pub fn download(&self, buffer: &Buffer, offset: usize, out: &mut [f32]) -> Result<(), OpenClError> {
        self.check_buffer(buffer)?;
        let range = buffer.range(offset..offset.saturating_add(out.len()))?;
        if out.is_empty() {
            return Ok(());
        }
        let byte_offset = range.offset * size_of::<f32>();
        // SAFETY: blocking read (CL_BLOCKING): the driver has finished writing `out` when
        // the call returns, and `out` is borrowed mutably for the whole call, so nothing
        // else observes it meanwhile. Any bit pattern is a valid f32. The source range was
        // checked to lie inside the buffer.
        unsafe { self.queue.enqueue_read_buffer(&buffer.mem, CL_BLOCKING, byte_offset, out, &[]) }
            .map_err(OpenClError::api("clEnqueueReadBuffer"))?;
        Ok(())
    }

    /// Runs `kernel` of `program` over a 1-D NDRange of `grid` work-items and waits for it.
    ///
    /// The global size is `grid` rounded up to the work-group size, so the kernel must
    /// ignore work-items with `get_global_id(0) >= grid` (pass `grid` as one of its
    /// arguments). `local` is the work-group size (`None`: a default that suits every device,
    /// at most the kernel's limit). `args` are set in order; a [`KernelArg::Range`] takes
    /// three parameters. Before anything is enqueued, the arguments are checked against
    /// the kernel's parameters as the compiler reports them: count always, and address space
    /// and type (`__global float*`, `int`, `float`) where the device gives argument info.
    /// `grid == 0` checks the arguments and runs nothing.
    ///
    /// # Safety
    ///
    /// OpenCL C has no bounds checks, and on a CPU device (PoCL) the kernel runs in this
    /// process: the kernel must access each buffer argument only within the buffer
    /// (`Buffer::len` elements) and each range argument only within
    /// `[offset, offset + len)` as passed, and must otherwise be free of undefined
    /// behaviour. Kernels generated by Ferrolite's DSL index only inside the ranges they
    /// are given.
    pub unsafe fn launch(
        &self,
        program: &Program,
        kernel: &str,
        grid: usize,
        local: Option<usize>,
        args: &[KernelArg<'_>],
    ) -> Result<(), OpenClError> {
        if program.context_id != self.id {
            return Err(OpenClError::Invalid(format!("kernel `{kernel}`: the program was built for another context")));
        }
        let raw = self.flatten_args(kernel, args)?;
        let mut kernels = lock(&program.kernels);
        let entry = match kernels.get(kernel) {
            Some(entry) => entry,
            None => {
                let entry = KernelEntry::create(program, kernel, &self.device)?;
                kernels.entry(kernel.to_string()).or_insert(entry)
            }
        };
        entry.check_args(kernel, &raw)?;
        for (index, arg) in raw.iter().enumerate() {
            // `check_args` compared the count with CL_KERNEL_NUM_ARGS (a u32).
            let index = index as u32;
            let set = match arg {
                // SAFETY: a memory-object parameter takes a pointer to a `cl_mem` of
                // size_of::<cl_mem>() (OpenCL 1.2, clSetKernelArg); `m` is a live buffer of
                // this context (checked in `flatten_args`) that the caller's borrow keeps
                // alive until we have waited for the kernel below. The index is below the
                // kernel's argument count (checked), and the value is copied by the driver.
                RawArg::Mem(m) => unsafe { entry.kernel.set_arg(index, m) },
                // SAFETY: an `int` parameter takes 4 bytes, the size of the i32 given;
                // the value is copied during the call. Index checked as above.
                RawArg::Int(v) => unsafe { entry.kernel.set_arg(index, v) },
                // SAFETY: a `float` parameter takes 4 bytes, the size of the f32 given;
                // the value is copied during the call. Index checked as above.
                RawArg::Float(v) => unsafe { entry.kernel.set_arg(index, v) },
            };
            set.map_err(|e| OpenClError::Signature {
                kernel: kernel.to_string(),
                detail: format!("argument {index}: clSetKernelArg failed: {}", OpenClError::Api { call: "clSetKernelArg", code: e.0 }),
            })?;
        }
        if grid == 0 {
            return Ok(());
        }
        let local = match local {
            Some(l) if l == 0 || l > entry.max_local => {
                return Err(OpenClError::Invalid(format!(
                    "kernel `{kernel}`: work-group size {l} is outside 1..={} for this kernel on this device",
                    entry.max_local
                )));
            }
            Some(l) => l,
            None => entry.default_local.min(grid),
        };
        let global = grid.div_ceil(local).checked_mul(local).ok_or_else(|| {
            OpenClError::Invalid(format!("kernel `{kernel}`: grid of {grid} work-items is too large"))
        })?;
        // SAFETY: every parameter was set above with a value of its declared size (count
        // and kinds checked against the compiler's report); the work dimension is 1, with
        // one global and one local size that outlive the call, global a multiple of local
        // and local within CL_KERNEL_WORK_GROUP_SIZE; no global offset, no wait list. What
        // the kernel does with its buffers is the caller's obligation (see `# Safety`).
        let event = unsafe {
            self.queue.enqueue_nd_range_kernel(entry.kernel.get(), 1, ptr::null(), &global, &local, &[])
        }
        .map_err(OpenClError::api("clEnqueueNDRangeKernel"))?;
        // The arguments are captured at enqueue; other launches of this kernel may set
        // theirs while this one runs.
        drop(kernels);
        // Waiting before returning keeps every buffer the kernel uses borrowed until it is done.
        event.wait().map_err(OpenClError::api("clWaitForEvents(kernel)"))?;
        Ok(())
    }

    fn check_buffer(&self, buffer: &Buffer) -> Result<(), OpenClError> {
        if buffer.context_id == self.id {
            Ok(())
        } else {
            Err(OpenClError::Invalid("the buffer belongs to another OpenCL context".into()))
        }
    }

    /// Expands ranges into (buffer, offset, len) and checks that every buffer is ours and
    /// every offset and length fits the kernel's `int`.
    fn flatten_args(&self, kernel: &str, args: &[KernelArg<'_>]) -> Result<Vec<RawArg>, OpenClError> {
        let int = |v: usize, what: &str| {
            i32::try_from(v).map(RawArg::Int).map_err(|_| {
                OpenClError::Invalid(format!("kernel `{kernel}`: {what} {v} does not fit an OpenCL int"))
            })
        };
        let mut raw = Vec::with_capacity(args.len() * 3);
        for arg in args {
            match *arg {
                KernelArg::Buffer(b) => {
                    self.check_buffer(b)?;
                    raw.push(RawArg::Mem(b.mem.get()));
                }
                KernelArg::Range(r) => {
                    self.check_buffer(r.buffer)?;
                    raw.push(RawArg::Mem(r.buffer.mem.get()));
                    raw.push(int(r.offset, "range offset")?);
                    raw.push(int(r.len, "range length")?);
                }
                KernelArg::I32(v) => raw.push(RawArg::Int(v)),
                KernelArg::F32(v) => raw.push(RawArg::Float(v)),
            }
        }
        Ok(raw)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the maps half-updated (inserts are
    // single calls), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A compiled OpenCL program (from [`Context::program`]), with the kernel objects created
/// from it.
#[derive(Debug)]
pub struct Program {
    context_id: u64,
    options: String,
    // One kernel object per name, reused across launches; the lock covers setting its
    // arguments and enqueueing, which OpenCL does not allow concurrently on one kernel.
    kernels: Mutex<HashMap<String, KernelEntry>>,
    program: opencl3::program::Program,
}

impl Program {
    /// The full build options the program was compiled with.
    pub fn options(&self) -> &str {
        &self.options
    }

    /// The kernels the program defines (`clGetProgramInfo(CL_PROGRAM_KERNEL_NAMES)`).
    pub fn kernel_names(&self) -> Vec<String> {
        self.program.kernel_names().split(';').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }
}

/// A kernel parameter's kind, as Ferrolite's launches understand it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParamKind {
    GlobalFloatPtr,
    Int,
    Float,
    /// Anything else, with the compiler's description: no argument matches it.
    Other(String),
}

impl ParamKind {
    fn describe(&self) -> String {
        match self {
            ParamKind::GlobalFloatPtr => "__global float*".into(),
            ParamKind::Int => "int".into(),
            ParamKind::Float => "float".into(),
            ParamKind::Other(s) => s.clone(),
        }
    }
}

#[derive(Debug)]
struct KernelEntry {
    kernel: Kernel,
    /// Parameter count (always known).
    num_params: usize,
    /// Parameter kinds, when the device reports argument info.
    params: Option<Vec<ParamKind>>,
    /// CL_KERNEL_WORK_GROUP_SIZE: the largest work-group this kernel can run with here.
    max_local: usize,
    default_local: usize,
}

impl KernelEntry {
    fn create(program: &Program, name: &str, device: &DeviceInfo) -> Result<KernelEntry, OpenClError> {
        if name.contains('\0') {
            return Err(OpenClError::Invalid("kernel name contains a NUL byte".into()));
        }
        let kernel = match Kernel::create(&program.program, name) {
            Ok(k) => k,
            Err(e) if e.0 == CL_INVALID_KERNEL_NAME => {
                return Err(OpenClError::Signature {
                    kernel: name.to_string(),
                    detail: format!("the program defines no such kernel (it has: {})", program.kernel_names().join(", ")),
                });
            }
            Err(e) => return Err(OpenClError::Api { call: "clCreateKernel", code: e.0 }),
        };
        let num_params = kernel.num_args().map_err(OpenClError::api("clGetKernelInfo(CL_KERNEL_NUM_ARGS)"))? as usize;
        let params = (0..num_params as u32).map(|i| param_kind(&kernel, i)).collect::<Result<Option<Vec<_>>, _>>()?;
        let max_local = kernel
            .get_work_group_size(device.device.id())
            .map_err(OpenClError::api("clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)"))?
            .clamp(1, device.max_work_group_size.max(1));
        let multiple = kernel.get_work_group_size_multiple(device.device.id()).unwrap_or(1).max(1);
        let mut default_local = DEFAULT_LOCAL_SIZE.min(max_local);
        if multiple <= default_local {
            default_local -= default_local % multiple;
        }
        Ok(KernelEntry { kernel, num_params, params, max_local, default_local: default_local.max(1) })
    }

    fn check_args(&self, name: &str, args: &[RawArg]) -> Result<(), OpenClError> {
        let mismatch = |detail: String| OpenClError::Signature { kernel: name.to_string(), detail };
        if args.len() != self.num_params {
            return Err(mismatch(format!(
                "{} arguments given (a range counts 3), the kernel has {} parameters",
                args.len(),
                self.num_params
            )));
        }
        if let Some(params) = &self.params {
            for (i, (arg, param)) in args.iter().zip(params).enumerate() {
                let ok = matches!(
                    (arg, param),
                    (RawArg::Mem(_), ParamKind::GlobalFloatPtr)
                        | (RawArg::Int(_), ParamKind::Int)
                        | (RawArg::Float(_), ParamKind::Float)
                );
                if !ok {
                    return Err(mismatch(format!("argument {i} is {}, the parameter is {}", arg.describe(), param.describe())));
                }
            }
        }
        Ok(())
    }
}

/// The kind of parameter `index`, or `None` when the device gives no argument info.
fn param_kind(kernel: &Kernel, index: u32) -> Result<Option<ParamKind>, OpenClError> {
    let type_name = match kernel.get_arg_type_name(index) {
        Ok(t) => t,
        Err(e) if e.0 == CL_KERNEL_ARG_INFO_NOT_AVAILABLE => return Ok(None),
        Err(e) => return Err(OpenClError::Api { call: "clGetKernelArgInfo(CL_KERNEL_ARG_TYPE_NAME)", code: e.0 }),
    };
    let address = kernel
        .get_arg_address_qualifier(index)
        .map_err(OpenClError::api("clGetKernelArgInfo(CL_KERNEL_ARG_ADDRESS_QUALIFIER)"))?;
    let ty: String = type_name.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(Some(match ty.as_str() {
        "float*" if address == CL_KERNEL_ARG_ADDRESS_GLOBAL => ParamKind::GlobalFloatPtr,
        "int" => ParamKind::Int,
        "float" => ParamKind::Float,
        _ if ty.ends_with('*') => ParamKind::Other(format!("{ty} (address qualifier {address:#x})")),
        _ => ParamKind::Other(ty),
    }))
}

/// A kernel argument as set with `clSetKernelArg`.
#[derive(Debug, Clone, Copy)]
enum RawArg {
    Mem(cl_mem),
    Int(i32),
    Float(f32),
}

impl RawArg {
    fn describe(&self) -> &'static str {
        match self {
            RawArg::Mem(_) => "a buffer",
            RawArg::Int(_) => "an int",
            RawArg::Float(_) => "a float",
        }
    }
}

/// A device buffer of f32 elements (from [`Context::buffer`]). A handle to device memory,
/// which Rust never references directly: kernels write through `&Buffer`, and every call
/// that touches it waits for completion.
#[derive(Debug)]
pub struct Buffer {
    context_id: u64,
    len: usize,
    mem: ClBuffer<f32>,
}

impl Buffer {
    /// Length in f32 elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements `range` of the buffer, to pass to a kernel as (buffer, offset, length):
    /// an error if the range is reversed or goes past the end.
    pub fn range(&self, range: Range<usize>) -> Result<BufferRange<'_>, OpenClError> {
        if range.start > range.end || range.end > self.len {
            return Err(OpenClError::Invalid(format!(
                "range {}..{} is outside a buffer of {} elements",
                range.start, range.end, self.len
            )));
        }
        Ok(BufferRange { buffer: self, offset: range.start, len: range.end - range.start })
    }

    /// The whole buffer as a range.
    pub fn all(&self) -> BufferRange<'_> {
        BufferRange { buffer: self, offset: 0, len: self.len }
    }
}

/// Elements `[offset, offset + len)` of a [`Buffer`], checked to lie inside it. Passed to
/// a kernel as three parameters (`__global float* buf, int offset, int len`) instead of an
/// OpenCL sub-buffer, whose origin must be aligned to the device's base address alignment.
#[derive(Debug, Clone, Copy)]
pub struct BufferRange<'a> {
    buffer: &'a Buffer,
    offset: usize,
    len: usize,
}

impl BufferRange<'_> {
    /// First element.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the range has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One argument of [`Context::launch`], in the order of the kernel's parameters.
#[derive(Debug, Clone, Copy)]
pub enum KernelArg<'a> {
    /// A whole buffer: one `__global float*` parameter.
    Buffer(&'a Buffer),
    /// A range of a buffer: three parameters, `__global float* buf, int offset, int len`.
    Range(BufferRange<'a>),
    /// An `int` parameter.
    I32(i32),
    /// A `float` parameter.
    F32(f32),
}

//! OpenCL device discovery.

use opencl3::device::{
    CL_DEVICE_TYPE_ACCELERATOR, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_CPU, CL_DEVICE_TYPE_GPU, Device,
};
use opencl3::error_codes::{CL_DEVICE_NOT_FOUND, CL_PLATFORM_NOT_FOUND_KHR, DLOPEN_RUNTIME_LOAD_FAILED};
use opencl3::platform::{Platform, get_platforms};
use std::sync::OnceLock;

use super::OpenClError;

/// The kind of an OpenCL device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// A CPU device (PoCL, Intel's CPU runtime).
    Cpu,
    /// A GPU.
    Gpu,
    /// A dedicated accelerator (DSP, FPGA, NPU exposed through OpenCL).
    Accelerator,
    /// Anything else the platform reports (custom devices).
    Other,
}

impl DeviceType {
    fn from_bits(bits: u64) -> DeviceType {
        if bits & CL_DEVICE_TYPE_GPU != 0 {
            DeviceType::Gpu
        } else if bits & CL_DEVICE_TYPE_CPU != 0 {
            DeviceType::Cpu
        } else if bits & CL_DEVICE_TYPE_ACCELERATOR != 0 {
            DeviceType::Accelerator
        } else {
            DeviceType::Other
        }
    }

    /// Short name (`cpu`, `gpu`, `accelerator`, `other`).
    pub const fn name(self) -> &'static str {
        match self {
            DeviceType::Cpu => "cpu",
            DeviceType::Gpu => "gpu",
            DeviceType::Accelerator => "accelerator",
            DeviceType::Other => "other",
        }
    }
}

/// What an OpenCL device is, as the driver describes it: enough to tell devices apart in a
/// tuning record ([`DeviceInfo::fingerprint`]) and to size launches.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// Platform name (`Portable Computing Language`, `NVIDIA CUDA`, ...).
    pub platform: String,
    /// Device name (`pthread-haswell-AMD EPYC ...`, `Mali-G78`, ...).
    pub name: String,
    /// Device vendor.
    pub vendor: String,
    /// Driver version (`CL_DRIVER_VERSION`).
    pub driver_version: String,
    /// OpenCL version the device supports (`CL_DEVICE_VERSION`, `OpenCL 3.0 PoCL ...`).
    pub opencl_version: String,
    /// OpenCL C version the device compiler accepts (`CL_DEVICE_OPENCL_C_VERSION`).
    pub opencl_c_version: String,
    /// CPU, GPU, accelerator.
    pub device_type: DeviceType,
    /// Parallel compute units (`CL_DEVICE_MAX_COMPUTE_UNITS`).
    pub compute_units: u32,
    /// Largest work-group the device accepts (a kernel may accept fewer).
    pub max_work_group_size: usize,
    /// Global memory in bytes.
    pub global_mem_bytes: u64,
    /// Largest single buffer in bytes (`CL_DEVICE_MAX_MEM_ALLOC_SIZE`).
    pub max_alloc_bytes: u64,
    /// Local (work-group shared) memory in bytes.
    pub local_mem_bytes: u64,
    /// Preferred `float` vector width (`CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT`).
    pub preferred_float_width: u32,
    /// Position in [`devices`]' list (platform order, then device order).
    pub index: usize,
    pub(crate) device: Device,
}

impl DeviceInfo {
    /// One line naming the device and its driver, stable across runs on the same machine and
    /// software: what a tuning record is keyed by.
    pub fn fingerprint(&self) -> String {
        format!(
            "opencl:{}|{}|{}|{}|{}|cu={}",
            self.platform, self.vendor, self.name, self.driver_version, self.opencl_version, self.compute_units
        )
    }

    fn query(platform: &str, device: Device, index: usize) -> Result<DeviceInfo, OpenClError> {
        let api = OpenClError::api;
        Ok(DeviceInfo {
            platform: platform.to_string(),
            name: device.name().map_err(api("clGetDeviceInfo(CL_DEVICE_NAME)"))?.trim().to_string(),
            vendor: device.vendor().map_err(api("clGetDeviceInfo(CL_DEVICE_VENDOR)"))?.trim().to_string(),
            driver_version: device.driver_version().map_err(api("clGetDeviceInfo(CL_DRIVER_VERSION)"))?.trim().to_string(),
            opencl_version: device.version().map_err(api("clGetDeviceInfo(CL_DEVICE_VERSION)"))?.trim().to_string(),
            opencl_c_version: device
                .opencl_c_version()
                .map_err(api("clGetDeviceInfo(CL_DEVICE_OPENCL_C_VERSION)"))?
                .trim()
                .to_string(),
            device_type: DeviceType::from_bits(device.dev_type().map_err(api("clGetDeviceInfo(CL_DEVICE_TYPE)"))?),
            compute_units: device.max_compute_units().map_err(api("clGetDeviceInfo(CL_DEVICE_MAX_COMPUTE_UNITS)"))?,
            max_work_group_size: device
                .max_work_group_size()
                .map_err(api("clGetDeviceInfo(CL_DEVICE_MAX_WORK_GROUP_SIZE)"))?,
            global_mem_bytes: device.global_mem_size().map_err(api("clGetDeviceInfo(CL_DEVICE_GLOBAL_MEM_SIZE)"))?,
            max_alloc_bytes: device.max_mem_alloc_size().map_err(api("clGetDeviceInfo(CL_DEVICE_MAX_MEM_ALLOC_SIZE)"))?,
            local_mem_bytes: device.local_mem_size().map_err(api("clGetDeviceInfo(CL_DEVICE_LOCAL_MEM_SIZE)"))?,
            preferred_float_width: device
                .max_preferred_vector_width_float()
                .map_err(api("clGetDeviceInfo(CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT)"))?,
            index,
            device,
        })
    }
}

/// The OpenCL devices on this machine, in platform order. Empty when there is no OpenCL
/// library (`libOpenCL.so.1`, loaded at run time), no platform (ICD), or no device; never
/// panics. [`try_devices`] says why a list is empty.
pub fn devices() -> Vec<DeviceInfo> {
    try_devices().unwrap_or_default()
}

/// Like [`devices`], but an error when OpenCL is present and a query fails, or when the
/// OpenCL library itself cannot be loaded (`DLOPEN_RUNTIME_LOAD_FAILED`, code -2000); a
/// machine with a loader but no platform or device gives an empty list. Devices that are
/// not available (`CL_DEVICE_AVAILABLE` false) or have no compiler are left out: Ferrolite
/// compiles its kernels from source.
///
/// The platforms are enumerated once per process and the result kept: drivers initialize
/// their devices on first enumeration, and PoCL 3.1 crashes when two threads do that at
/// once (seen in this crate's tests), so every caller goes through one `OnceLock`.
pub fn try_devices() -> Result<Vec<DeviceInfo>, OpenClError> {
    static DEVICES: OnceLock<Result<Vec<DeviceInfo>, OpenClError>> = OnceLock::new();
    DEVICES.get_or_init(enumerate).clone()
}

fn enumerate() -> Result<Vec<DeviceInfo>, OpenClError> {
    let platforms = match get_platforms() {
        Ok(p) => p,
        // The ICD loader is present but no platform is installed.
        Err(e) if e.0 == CL_PLATFORM_NOT_FOUND_KHR => return Ok(Vec::new()),
        Err(e) if e.0 == DLOPEN_RUNTIME_LOAD_FAILED => {
            return Err(OpenClError::Api { call: "dlopen(libOpenCL.so.1)", code: e.0 });
        }
        Err(e) => return Err(OpenClError::Api { call: "clGetPlatformIDs", code: e.0 }),
    };
    let mut out = Vec::new();
    for platform in platforms {
        let ids = match platform.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) => ids,
            Err(e) if e.0 == CL_DEVICE_NOT_FOUND => continue,
            Err(e) => return Err(OpenClError::Api { call: "clGetDeviceIDs", code: e.0 }),
        };
        let platform_name = platform_name(&platform)?;
        for id in ids {
            let device = Device::new(id);
            // A device that is busy elsewhere or has no compiler cannot run our kernels.
            let usable = device.available().unwrap_or(false) && device.compiler_available().unwrap_or(false);
            if usable {
                out.push(DeviceInfo::query(&platform_name, device, out.len())?);
            }
        }
    }
    Ok(out)
}

fn platform_name(platform: &Platform) -> Result<String, OpenClError> {
    Ok(platform.name().map_err(OpenClError::api("clGetPlatformInfo(CL_PLATFORM_NAME)"))?.trim().to_string())
}

/// Whether the environment says this machine must have an OpenCL device
/// (`FERROLITE_EXPECT_OPENCL=1`). Tests use it so that a missing device on a machine that
/// should have one fails instead of skipping silently.
pub fn expected() -> Result<bool, String> {
    match std::env::var("FERROLITE_EXPECT_OPENCL") {
        Err(std::env::VarError::NotPresent) => Ok(false),
        Ok(v) if v.is_empty() || v == "0" => Ok(false),
        Ok(v) if v == "1" => Ok(true),
        Ok(v) => Err(format!("FERROLITE_EXPECT_OPENCL: expected 0 or 1, got {v:?}")),
        Err(e) => Err(format!("FERROLITE_EXPECT_OPENCL: {e}")),
    }
}

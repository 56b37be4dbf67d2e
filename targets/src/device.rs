//! The device fingerprint: what a tuning profile records about the machine it was measured
//! on, and what decides whether a profile applies to the machine running it.
//!
//! Read from the OS without privileges: `/proc/cpuinfo` and `/sys/devices/system/cpu` on
//! Linux and Android. Fields the OS does not expose are left empty (0 or `""`) rather than
//! guessed.

use crate::Isa;

/// One group of cores sharing a maximum frequency (a big.LITTLE cluster; one cluster on
/// most desktop and server CPUs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Logical CPU numbers in the cluster.
    pub cores: Vec<usize>,
    /// Maximum frequency in MHz (0 when the OS does not say).
    pub max_mhz: u64,
}

/// What identifies a machine for tuning purposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// `std::env::consts::ARCH` (`x86_64`, `aarch64`).
    pub arch: String,
    /// `std::env::consts::OS`.
    pub os: String,
    /// CPU model name (`model name` on x86, `Hardware`/`CPU part` on Arm; `""` if unknown).
    pub cpu: String,
    /// SIMD ISAs this build can use on this machine, by [`Isa::name`].
    pub isa: Vec<String>,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Clusters by maximum frequency, fastest first.
    pub clusters: Vec<Cluster>,
    /// L1 data cache of core 0, KiB (0 if unknown).
    pub l1d_kib: u64,
    /// L2 cache of core 0, KiB (0 if unknown).
    pub l2_kib: u64,
    /// Last-level (L3) cache, KiB (0 if none or unknown).
    pub l3_kib: u64,
}

impl Fingerprint {
    /// The fingerprint of this machine.
    pub fn detect() -> Fingerprint {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut isa: Vec<String> =
            Isa::ALL.iter().filter(|i| i.compiled() && i.available()).map(|i| i.name().to_string()).collect();
        isa.sort();
        let (l1d_kib, l2_kib, l3_kib) = caches();
        Fingerprint {
            arch: std::env::consts::ARCH.to_string(),
            os: std::env::consts::OS.to_string(),
            cpu: cpu_model(&cpuinfo),
            isa,
            cores,
            clusters: clusters(),
            l1d_kib,
            l2_kib,
            l3_kib,
        }
    }
}

/// The CPU model from `/proc/cpuinfo`: `model name` (x86), else `Hardware` (older Arm
/// kernels), else the Arm implementer and part numbers, which name the core type.
fn cpu_model(cpuinfo: &str) -> String {
    let field = |key: &str| {
        cpuinfo.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    if let Some(m) = field("model name") {
        return m;
    }
    if let Some(h) = field("Hardware") {
        return h;
    }
    match (field("CPU implementer"), field("CPU part")) {
        (Some(i), Some(p)) => format!("arm implementer {i} part {p}"),
        _ => String::new(),
    }
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Groups logical CPUs by `cpuinfo_max_freq`, fastest cluster first.
fn clusters() -> Vec<Cluster> {
    let mut by_freq: Vec<Cluster> = Vec::new();
    for cpu in 0..1024 {
        let base = format!("/sys/devices/system/cpu/cpu{cpu}");
        if !std::path::Path::new(&base).exists() {
            break;
        }
        let mhz = read_u64(&format!("{base}/cpufreq/cpuinfo_max_freq")).map_or(0, |khz| khz / 1000);
        match by_freq.iter_mut().find(|c| c.max_mhz == mhz) {
            Some(c) => c.cores.push(cpu),
            None => by_freq.push(Cluster { cores: vec![cpu], max_mhz: mhz }),
        }
    }
    by_freq.sort_by(|a, b| b.max_mhz.cmp(&a.max_mhz));
    by_freq
}

/// L1 data, L2 and L3 sizes in KiB from core 0's cache descriptions.
fn caches() -> (u64, u64, u64) {
    let (mut l1d, mut l2, mut l3) = (0, 0, 0);
    for index in 0..8 {
        let base = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
        let Ok(level) = std::fs::read_to_string(format!("{base}/level")) else { break };
        let kind = std::fs::read_to_string(format!("{base}/type")).unwrap_or_default();
        let size = std::fs::read_to_string(format!("{base}/size")).unwrap_or_default();
        let size = size.trim();
        let kib = match size.strip_suffix('K') {
            Some(k) => k.parse().unwrap_or(0),
            None => size.strip_suffix('M').and_then(|m| m.parse::<u64>().ok()).map_or(0, |m| m * 1024),
        };
        match (level.trim(), kind.trim()) {
            ("1", "Data") => l1d = kib,
            ("2", _) => l2 = kib,
            ("3", _) => l3 = kib,
            _ => {}
        }
    }
    (l1d, l2, l3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_from_each_cpuinfo_style() {
        assert_eq!(cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 9B45\n"), "AMD EPYC 9B45");
        assert_eq!(cpu_model("Hardware\t: Qualcomm SM8550\n"), "Qualcomm SM8550");
        assert_eq!(cpu_model("CPU implementer\t: 0x41\nCPU part\t: 0xd47\n"), "arm implementer 0x41 part 0xd47");
        assert_eq!(cpu_model(""), "");
    }

    #[test]
    fn this_machine_has_an_arch_and_scalar() {
        let f = Fingerprint::detect();
        assert_eq!(f.arch, std::env::consts::ARCH);
        assert!(f.isa.iter().any(|i| i == "scalar"), "{f:?}");
        assert!(f.cores >= 1);
        let listed: usize = f.clusters.iter().map(|c| c.cores.len()).sum();
        assert!(listed == 0 || listed >= 1);
    }
}

//! Device profiles: the tuner's pick of kernel variant (and run-time parameters) per layer
//! signature, measured on one device, stored as YAML and read by the runtime at load time
//! (or baked into a build with `FERROLITE_PROFILE`).
//!
//! A profile applies only where it was measured and to the kernels it measured:
//! [`Profile::check`] compares its device (architecture, CPU model, SIMD ISAs) with this
//! machine's and its kernel-set checksum with this build's. The Ferrolite version is
//! recorded for information only. Unknown fields are ignored and missing ones take
//! defaults, so older and newer profiles of the same format load.
//!
//! **Keys and the nearest entry.** An entry's [`Key`] holds everything that changes which
//! variants apply or how fast they run. A node looks up its own key; when there is no exact
//! entry, the nearest entry of the same *family* (operator, kernel, stride, dilation,
//! group kind, batch, threads) is used if its distance is at most [`NEAREST_MAX`]. The
//! distance sums, over input channels, output channels and input pixels (`h * w`), the
//! absolute difference of their base-2 logarithms, plus 0.25 when the padding differs: a
//! layer twice as wide is 1 away, one with half as many pixels too. Sizes are bucketed to
//! quarter octaves (`bucket(x) = round(4 * log2(x))`) before the distance is taken, so
//! shapes within about 9% of each other count as the same size.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernel::KernelRegistry;

/// The profile format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Largest key distance at which an entry still stands in for an unseen layer.
pub const NEAREST_MAX: f64 = 2.0;

/// A device profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Format version ([`FORMAT`]).
    #[serde(default = "format_default")]
    pub format: u32,
    /// The device it was measured on.
    pub device: Device,
    /// Who measured it, when, and against which kernel set.
    pub provenance: Provenance,
    /// One entry per tuned layer signature.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

fn format_default() -> u32 {
    FORMAT
}

/// The machine a profile was measured on (see [`ferrolite_targets::device::Fingerprint`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Device {
    /// CPU architecture (`x86_64`, `aarch64`).
    pub arch: String,
    /// Operating system.
    pub os: String,
    /// CPU model.
    pub cpu: String,
    /// SIMD ISAs available, sorted.
    pub isa: Vec<String>,
    /// Logical cores.
    pub cores: usize,
    /// Clusters of cores by maximum frequency.
    pub clusters: Vec<Cluster>,
    /// L1 data cache, KiB.
    pub l1d_kib: u64,
    /// L2 cache, KiB.
    pub l2_kib: u64,
    /// L3 cache, KiB.
    pub l3_kib: u64,
    /// The OpenCL device tuned, when OpenCL variants were measured.
    pub opencl: Option<OpenClDevice>,
}

/// Cores sharing a maximum frequency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cluster {
    /// Logical CPU numbers.
    pub cores: Vec<usize>,
    /// Maximum frequency, MHz (0: unknown).
    pub max_mhz: u64,
}

/// An OpenCL device and its driver.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenClDevice {
    /// Device name.
    pub name: String,
    /// Driver version.
    pub driver: String,
}

impl Device {
    /// This machine.
    pub fn this_machine() -> Device {
        let f = ferrolite_targets::device::Fingerprint::detect();
        Device {
            arch: f.arch,
            os: f.os,
            cpu: f.cpu,
            isa: f.isa,
            cores: f.cores,
            clusters: f.clusters.into_iter().map(|c| Cluster { cores: c.cores, max_mhz: c.max_mhz }).collect(),
            l1d_kib: f.l1d_kib,
            l2_kib: f.l2_kib,
            l3_kib: f.l3_kib,
            opencl: None,
        }
    }

    /// Why a profile measured on `self` does not apply on `here`, if it does not: a
    /// different architecture, CPU model or set of SIMD ISAs. Core counts and frequencies
    /// may differ (containers, power states) without invalidating the picks.
    pub fn mismatch(&self, here: &Device) -> Option<String> {
        if self.arch != here.arch {
            return Some(format!("it was tuned on {} and this machine is {}", self.arch, here.arch));
        }
        if self.cpu != here.cpu {
            return Some(format!("it was tuned on CPU \"{}\" and this one is \"{}\"", self.cpu, here.cpu));
        }
        if self.isa != here.isa {
            return Some(format!("it was tuned with ISAs [{}] and this machine has [{}]", self.isa.join(", "), here.isa.join(", ")));
        }
        None
    }
}

/// Where a profile came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// Ferrolite version that measured it (information only).
    pub ferrolite: String,
    /// [`kernel_set_checksum`] of the build that measured it.
    pub kernel_set: String,
    /// When (UTC, RFC 3339 date-time).
    pub tuned: String,
    /// The tuning budget, seconds.
    pub budget_s: f64,
    /// What was tuned (a model path, a zoo name or `suite`).
    pub source: String,
}

/// One tuned layer signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The signature.
    pub key: Key,
    /// The fastest candidate.
    pub pick: Pick,
    /// Its median time, microseconds.
    #[serde(default)]
    pub us: f64,
    /// The other candidates measured, fastest first.
    #[serde(default)]
    pub others: Vec<Candidate>,
}

/// What a layer looks like to the kernels that could run it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// Operator (`conv2d`).
    pub op: String,
    /// Batch.
    #[serde(default = "one")]
    pub n: usize,
    /// Input channels.
    pub ic: usize,
    /// Output channels.
    pub oc: usize,
    /// Kernel height and width.
    pub k: [usize; 2],
    /// Strides.
    pub s: [usize; 2],
    /// Dilations.
    pub d: [usize; 2],
    /// Groups.
    pub groups: usize,
    /// Padding: top, left, bottom, right.
    pub pad: [usize; 4],
    /// Input height and width.
    pub hw: [usize; 2],
    /// Threads of the session.
    pub threads: usize,
}

fn one() -> usize {
    1
}

/// A variant and the run-time parameters to build it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    /// Variant id.
    pub id: String,
    /// Run-time parameter values by name (the others keep their defaults).
    #[serde(default)]
    pub params: BTreeMap<String, usize>,
}

impl Pick {
    /// The parameters as [`crate::kernel::KernelFactory::build_with`] takes them.
    pub fn param_list(&self) -> Vec<(String, usize)> {
        self.params.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// A measured candidate that was not picked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Variant id.
    pub id: String,
    /// Run-time parameters.
    #[serde(default)]
    pub params: BTreeMap<String, usize>,
    /// Median time, microseconds.
    pub us: f64,
}

/// `round(4 * log2(x))`: quarter-octave size buckets.
fn bucket(x: usize) -> i64 {
    (4.0 * (x.max(1) as f64).log2()).round() as i64
}

impl Key {
    /// Whether `other` is in the same family: only entries of one family stand in for
    /// each other. Depthwise (`groups == ic == oc`), dense (`groups == 1`) and other group
    /// counts are different families.
    pub fn same_family(&self, other: &Key) -> bool {
        let kind = |k: &Key| match k.groups {
            1 => 0usize,
            g if g == k.ic && g == k.oc => 1,
            g => 2 + g,
        };
        self.op == other.op
            && self.n == other.n
            && self.k == other.k
            && self.s == other.s
            && self.d == other.d
            && self.threads == other.threads
            && kind(self) == kind(other)
    }

    /// The distance between keys of one family (see the module documentation).
    pub fn distance(&self, other: &Key) -> f64 {
        let d = |a: usize, b: usize| (bucket(a) - bucket(b)).unsigned_abs() as f64 / 4.0;
        let pixels = |k: &Key| k.hw[0] * k.hw[1];
        let pad = if self.pad == other.pad { 0.0 } else { 0.25 };
        d(self.ic, other.ic) + d(self.oc, other.oc) + d(pixels(self), pixels(other)) + pad
    }
}

/// Why a profile is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Profile {
    /// A profile with no entries for this machine and kernel set.
    pub fn new(registry: &KernelRegistry, source: impl Into<String>, budget_s: f64) -> Profile {
        Profile {
            format: FORMAT,
            device: Device::this_machine(),
            provenance: Provenance {
                ferrolite: env!("CARGO_PKG_VERSION").to_string(),
                kernel_set: kernel_set_checksum(registry),
                tuned: String::new(),
                budget_s,
                source: source.into(),
            },
            entries: Vec::new(),
        }
    }

    /// Parses a profile from YAML.
    pub fn from_yaml(text: &str) -> Result<Profile> {
        let p: Profile = serde_norway::from_str(text).map_err(|e| Error::Input(format!("not a Ferrolite profile: {e}")))?;
        if p.format > FORMAT {
            return Err(Error::Unsupported(format!(
                "profile format {} is newer than this build reads ({FORMAT}); re-tune or upgrade Ferrolite",
                p.format
            )));
        }
        Ok(p)
    }

    /// Reads a profile file.
    pub fn load(path: impl AsRef<Path>) -> Result<Profile> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Self::from_yaml(&text).map_err(|e| Error::Input(format!("{}: {e}", path.display())))
    }

    /// The profile as YAML.
    pub fn to_yaml(&self) -> Result<String> {
        serde_norway::to_string(self).map_err(|e| Error::Input(format!("cannot write the profile: {e}")))
    }

    /// Writes the profile, atomically (a temporary file renamed over `path`), so that an
    /// interrupted tuner never leaves a truncated profile behind.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |source| Error::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("yaml.tmp");
        std::fs::write(&tmp, self.to_yaml()?).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Whether this profile applies here: same device and same kernel set as `registry`.
    pub fn check(&self, registry: &KernelRegistry) -> std::result::Result<(), Refusal> {
        if let Some(why) = self.device.mismatch(&Device::this_machine()) {
            return Err(Refusal(format!("the profile is for another device: {why}")));
        }
        let here = kernel_set_checksum(registry);
        if self.provenance.kernel_set != here {
            return Err(Refusal(format!(
                "the profile was tuned for kernel set {} (Ferrolite {}) and this build has kernel set {here}",
                self.provenance.kernel_set, self.provenance.ferrolite
            )));
        }
        Ok(())
    }

    /// The entry for `key`: the exact one, else the nearest of its family within
    /// [`NEAREST_MAX`], nearest first, with their distances. `usable` filters entries
    /// whose pick cannot run the node (another ISA, a variant that does not apply).
    pub fn lookup(&self, key: &Key, usable: impl Fn(&Entry) -> bool) -> Option<(&Entry, f64)> {
        let mut near: Vec<(&Entry, f64)> = self
            .entries
            .iter()
            .filter(|e| e.key.same_family(key))
            .map(|e| (e, if e.key == *key { 0.0 } else { e.key.distance(key).max(f64::MIN_POSITIVE) }))
            .filter(|(_, d)| *d <= NEAREST_MAX)
            .collect();
        near.sort_by(|a, b| a.1.total_cmp(&b.1));
        near.into_iter().find(|(e, _)| usable(e))
    }

    /// Adds or replaces the entry for its key.
    pub fn upsert(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
    }
}

/// The profile baked into this build with `FERROLITE_PROFILE` at build time (see
/// `docs/tuning.md`), parsed; `None` when the build has none. Sessions given no profile of
/// their own use it, after the same [`Profile::check`] as any other. An embedded text that
/// is not a usable profile (a newer format, a missing field) is an error naming the file it
/// was built from. The text is parsed once per process.
pub fn builtin() -> Option<Result<Profile>> {
    static PARSED: std::sync::OnceLock<Option<std::result::Result<Profile, String>>> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        let (path, text) = BUILTIN?;
        Some(Profile::from_yaml(text).map_err(|e| format!("the built-in profile (from {path}): {e}")))
    });
    parsed.clone().map(|r| r.map_err(Error::Input))
}

/// The file `FERROLITE_PROFILE` named at build time and its text (runtime/build.rs).
#[cfg(ferrolite_builtin_profile)]
const BUILTIN: Option<(&str, &str)> =
    Some((env!("FERROLITE_BUILTIN_PROFILE"), include_str!(concat!(env!("OUT_DIR"), "/profile.yaml"))));
#[cfg(not(ferrolite_builtin_profile))]
const BUILTIN: Option<(&str, &str)> = None;

/// The kernel-set checksum: FNV-1a (64 bit) over the sorted lines
/// `id|compile params|run-time params with their candidates` of every declared DSL variant
/// (see [`KernelRegistry::declared`]), as 16 hex digits. Adding, removing or renaming a
/// variant, or changing a parameter space, changes it; a new Ferrolite version with the
/// same kernels does not.
pub fn kernel_set_checksum(registry: &KernelRegistry) -> String {
    let mut lines: Vec<String> = registry
        .declared()
        .iter()
        .map(|v| {
            let cp: Vec<String> = v.compile_params.iter().map(|(n, x)| format!("{n}={x}")).collect();
            let rp: Vec<String> = v
                .runtime_params
                .iter()
                .map(|p| format!("{}:{:?}:{}", p.name, p.values, p.default))
                .collect();
            format!("{}|{}|{}", v.id, cp.join(","), rp.join(","))
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for line in &lines {
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ic: usize, oc: usize, hw: usize) -> Key {
        Key { op: "conv2d".into(), n: 1, ic, oc, k: [3, 3], s: [1, 1], d: [1, 1], groups: 1, pad: [1, 1, 1, 1], hw: [hw, hw], threads: 1 }
    }

    fn entry(k: Key, id: &str) -> Entry {
        Entry { key: k, pick: Pick { id: id.into(), params: BTreeMap::new() }, us: 1.0, others: vec![] }
    }

    #[test]
    fn exact_then_nearest_within_the_family() {
        let mut p = Profile::new(&KernelRegistry::new(), "test", 1.0);
        p.upsert(entry(key(64, 64, 56), "a"));
        p.upsert(entry(key(64, 64, 28), "b"));
        let (e, d) = p.lookup(&key(64, 64, 56), |_| true).unwrap();
        assert_eq!((e.pick.id.as_str(), d), ("a", 0.0));
        // 64 -> 96 channels: half an octave each (bucketed), same pixels.
        let (e, d) = p.lookup(&key(96, 96, 56), |_| true).unwrap();
        assert_eq!(e.pick.id, "a");
        assert!((d - 1.0).abs() < 1e-9, "{d}");
        // 40x40 pixels: 0.75 octaves from 56x56, 1.25 from 28x28.
        let (e, d) = p.lookup(&key(64, 64, 40), |_| true).unwrap();
        assert_eq!(e.pick.id, "a");
        assert!((d - 0.75).abs() < 1e-9, "{d}");
        // An unusable pick is skipped for the next nearest.
        let (e, _) = p.lookup(&key(64, 64, 40), |e| e.pick.id != "a").unwrap();
        assert_eq!(e.pick.id, "b");
        // Another family (1x1) or too far away: nothing.
        let mut other = key(64, 64, 56);
        other.k = [1, 1];
        assert!(p.lookup(&other, |_| true).is_none());
        assert!(p.lookup(&key(1024, 1024, 7), |_| true).is_none());
    }

    #[test]
    fn yaml_round_trip_and_old_profiles_load() {
        let mut p = Profile::new(&KernelRegistry::new(), "zoo", 60.0);
        let mut e = entry(key(64, 64, 56), "f32-conv2d-winograd-f4x3-avx2");
        e.pick.params.insert("TILES".into(), 8);
        e.others.push(Candidate { id: "f32-conv2d-gemm-mr6-nv2-avx2".into(), params: BTreeMap::new(), us: 2.0 });
        p.upsert(e);
        let back = Profile::from_yaml(&p.to_yaml().unwrap()).unwrap();
        assert_eq!(back, p);

        // A minimal profile (fields of later versions missing, an unknown one present).
        let old = "device: {arch: x86_64}\nprovenance: {kernel_set: abc}\nfuture_field: 3\n";
        let p = Profile::from_yaml(old).unwrap();
        assert_eq!((p.format, p.entries.len(), p.device.arch.as_str()), (FORMAT, 0, "x86_64"));
        assert!(Profile::from_yaml("format: 99\ndevice: {}\nprovenance: {}\n").is_err());
        assert!(Profile::from_yaml("- not a map").is_err());
    }

    #[test]
    fn device_or_kernel_set_mismatch_is_refused() {
        let reg = crate::model::default_registry();
        let p = Profile::new(&reg, "t", 1.0);
        assert_eq!(p.check(&reg), Ok(()));
        let mut stale = p.clone();
        stale.provenance.kernel_set = "0000000000000000".into();
        assert!(stale.check(&reg).unwrap_err().0.contains("kernel set"));
        let mut other = p.clone();
        other.device.cpu = "Some Other CPU".into();
        assert!(other.check(&reg).unwrap_err().0.contains("another device"));
        // Another Ferrolite version with the same kernels still applies.
        let mut newer = p;
        newer.provenance.ferrolite = "9.9.9".into();
        assert_eq!(newer.check(&reg), Ok(()));
    }

    #[test]
    fn checksum_follows_the_declared_variants() {
        let reg = crate::model::default_registry();
        let full = crate::model::full_registry();
        // OpenCL factories are left out of the default registry but still declared.
        assert_eq!(kernel_set_checksum(&reg), kernel_set_checksum(&full));
        assert_ne!(kernel_set_checksum(&reg), kernel_set_checksum(&KernelRegistry::new()));
    }
}

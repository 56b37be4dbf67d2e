//! # Ferrolite tuner
//!
//! Measures, on the device it runs on, the kernel variants that apply to each distinct
//! layer of a model (and their run-time parameters), keeps the fastest, and writes a
//! device profile ([`ferrolite_runtime::profile::Profile`]) that sessions and builds use
//! instead of the heuristic.
//!
//! - [`layers`]: the distinct layer signatures of a model, each as a one-node model;
//! - [`measure`]: interleaved timing with a robust statistic and a noise guard;
//! - [`search`]: the short search (first pass, coordinate descent, run-off) and the
//!   exhaustive one the report compares it with;
//! - [`report`]: regret per layer and whole-network speed-ups;
//! - [`remote`]: tuning on another device through a command template (adb, ssh, qemu).
//!
//! Budget: the layers share the budget evenly, time a layer does not use passing to the
//! next. A layer's first pass (every variant once at its defaults) always completes, so the
//! budget can be overrun by at most one pass over the last layer's variants.
//!
//! Resuming: the profile is saved after every layer; a re-run given the same output file
//! keeps the entries it finds there (if that profile matches this device and kernel set)
//! and measures only the rest.
#![warn(missing_docs)]

pub mod layers;
pub mod measure;
pub mod remote;
pub mod report;
pub mod search;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferrolite_runtime::kernel::KernelRegistry;
use ferrolite_runtime::profile::Profile;
use ferrolite_runtime::{Model, Result};
use indicatif::ProgressBar;

pub use layers::{Layer, distinct_layers};

/// What to tune and how.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// Threads of the sessions the profile is for.
    pub threads: usize,
    /// Time to spend measuring, in all.
    pub budget: Duration,
    /// Also measure OpenCL variants.
    pub opencl: bool,
    /// What is tuned (recorded in the profile's provenance).
    pub source: String,
    /// Where the profile is saved after every layer (and resumed from, if it exists).
    pub output: Option<PathBuf>,
}

/// Tunes the layers of `model` (inputs of `input_shapes`) with the variants of
/// `registry`. Returns the profile and the number of layers measured in this run (layers
/// resumed from an earlier run are not measured again).
pub fn tune(
    model: &Model,
    input_shapes: &[Vec<usize>],
    registry: &KernelRegistry,
    options: &TuneOptions,
    bar: &ProgressBar,
) -> Result<(Profile, usize)> {
    let layers = distinct_layers(model, input_shapes, options.threads)?;
    tune_layers(&layers, registry, options, bar)
}

/// Tunes these layers (see [`tune`]).
pub fn tune_layers(
    layers: &[Layer],
    registry: &KernelRegistry,
    options: &TuneOptions,
    bar: &ProgressBar,
) -> Result<(Profile, usize)> {
    let start = Instant::now();
    let mut profile = resume(registry, options).unwrap_or_else(|| Profile::new(registry, &options.source, 0.0));
    profile.provenance.budget_s = options.budget.as_secs_f64();
    profile.provenance.source = options.source.clone();
    let todo: Vec<&Layer> = layers.iter().filter(|l| !profile.entries.iter().any(|e| e.key == l.key)).collect();
    bar.set_length(todo.len() as u64);
    let mut measured = 0;
    for (i, layer) in todo.iter().enumerate() {
        let left = options.budget.saturating_sub(start.elapsed());
        let deadline = Instant::now() + left / (todo.len() - i) as u32;
        let what = format!(
            "{} ({}x{} {}->{} on {}x{}, x{})",
            layer.name, layer.key.k[0], layer.key.k[1], layer.key.ic, layer.key.oc, layer.key.hw[0], layer.key.hw[1], layer.count
        );
        bar.set_prefix(format!("layer {}/{}", i + 1, todo.len()));
        let progress = |msg: &str| bar.set_message(format!("{what}: {msg}"));
        if let Some(found) = search::search(layer, registry, options.threads, options.opencl, deadline, &progress)? {
            profile.upsert(found.entry(layer));
            measured += 1;
        }
        profile.provenance.tuned = utc_now();
        if let Some(path) = &options.output {
            profile.save(path)?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    profile.provenance.tuned = utc_now();
    Ok((profile, measured))
}

/// The earlier profile at the output path, if there is one for this device and kernel set.
fn resume(registry: &KernelRegistry, options: &TuneOptions) -> Option<Profile> {
    let path = options.output.as_ref()?;
    let p = Profile::load(path).ok()?;
    p.check(registry).ok()?;
    Some(p)
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        let now = super::utc_now();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20"), "{now}");
        assert_eq!(&now[10..11], "T");
    }
}

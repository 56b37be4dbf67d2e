//! `ferrolite tune --report`: how good the picks are.
//!
//! - **Regret per layer**: the pick's time against the best configuration of an
//!   exhaustive search of the same space, both re-measured side by side in interleaved
//!   rounds after the search (`pick / best - 1`; 0 means the short search found the best,
//!   small negative values are noise).
//! - **Whole network**: the model timed with the tuned profile, with the heuristic (no
//!   profile) and with each single convolution algorithm (every layer it applies to runs
//!   it, at the widest ISA and default parameters; the others follow the heuristic), in
//!   interleaved rounds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrolite_runtime::kernel::KernelRegistry;
use ferrolite_runtime::profile::{Entry, Pick, Profile};
use ferrolite_runtime::{Model, Result, Session, SessionOptions, Tensor};

use crate::layers::Layer;
use crate::measure::{Config, measure, median};
use crate::search::{ROUNDS, exhaustive};

/// Rounds of the side-by-side re-measurements.
pub const REPORT_ROUNDS: usize = 7;

/// One layer's regret.
#[derive(Debug, Clone)]
pub struct LayerRegret {
    /// The layer.
    pub name: String,
    /// Nodes sharing its key.
    pub count: usize,
    /// The profile's pick.
    pub pick: Config,
    /// Its time, microseconds.
    pub pick_us: f64,
    /// The exhaustive search's best.
    pub best: Config,
    /// Its time, microseconds.
    pub best_us: f64,
    /// Configurations the exhaustive search measured.
    pub space: usize,
}

impl LayerRegret {
    /// `pick / best - 1`.
    pub fn regret(&self) -> f64 {
        self.pick_us / self.best_us.max(1e-9) - 1.0
    }
}

/// The regret of `profile`'s picks on each layer.
pub fn layer_regret(
    layers: &[Layer],
    profile: &Profile,
    registry: &KernelRegistry,
    threads: usize,
    progress: &dyn Fn(&str),
) -> Result<Vec<LayerRegret>> {
    let far = Instant::now() + Duration::from_secs(24 * 3600);
    let mut out = Vec::new();
    for layer in layers {
        let Some(entry) = profile.entries.iter().find(|e| e.key == layer.key) else { continue };
        let pick = Config { id: entry.pick.id.clone(), params: entry.pick.param_list() };
        let Some(found) = exhaustive(layer, registry, threads, false, &|m| progress(&format!("{}: {m}", layer.name)))? else {
            continue;
        };
        let space = found.others.len() + 1;
        let best = found.best.config;
        progress(&format!("{}: pick against the exhaustive best", layer.name));
        let group = if best == pick { vec![pick.clone()] } else { vec![pick.clone(), best.clone()] };
        let m = measure(layer, registry, &group, threads, REPORT_ROUNDS, far)?;
        let time = |c: &Config| m.iter().find(|x| x.config == *c).map_or(f64::NAN, |x| x.median_us());
        out.push(LayerRegret {
            name: layer.name.clone(),
            count: layer.count,
            pick_us: time(&pick),
            best_us: time(&best),
            pick,
            best,
            space,
        });
    }
    Ok(out)
}

/// A profile that runs `algorithm` on every layer it applies to (widest ISA, default
/// parameters), leaving the other layers to the heuristic.
pub fn single_algorithm_profile(layers: &[Layer], registry: &KernelRegistry, base: &Profile, algorithm: &str) -> Result<Profile> {
    let mut p = base.clone();
    p.entries.clear();
    for layer in layers {
        let ids = layer.candidates(registry, false)?;
        let pick = ids.into_iter().find(|id| {
            registry.by_id(id).and_then(|f| f.variant()).is_some_and(|v| v.algorithm == algorithm && v.default_params)
        });
        if let Some(id) = pick {
            p.upsert(Entry { key: layer.key.clone(), pick: Pick { id, params: BTreeMap::new() }, us: 0.0, others: vec![] });
        }
    }
    Ok(p)
}

/// The convolution algorithms of the registry (`gemm`, `winograd`, ...), excluding the
/// depthwise one, which has no competitor on its layers.
pub fn conv_algorithms(registry: &KernelRegistry) -> Vec<&'static str> {
    let mut a: Vec<&'static str> = registry
        .declared()
        .iter()
        .filter(|v| v.op == "conv2d" && v.algorithm != "depthwise")
        .map(|v| v.algorithm)
        .collect();
    a.sort_unstable();
    a.dedup();
    a
}

/// Median milliseconds of a whole run of `model` under each labelled profile (`None`: the
/// heuristic), in interleaved rounds of `runs` runs each.
pub fn whole_network(
    model: &Arc<Model>,
    inputs: &[Tensor],
    threads: usize,
    configs: &[(String, Option<Arc<Profile>>)],
    rounds: usize,
    runs: usize,
) -> Result<Vec<(String, f64)>> {
    let mut sessions = Vec::new();
    for (label, profile) in configs {
        let mut options = SessionOptions::new().with_threads(threads);
        if let Some(p) = profile {
            options = options.with_profile(p.clone());
        }
        let mut s = Session::new(model.clone(), options)?;
        let views: Vec<_> = inputs.iter().map(|t| t.view()).collect();
        s.run_views(&views)?;
        sessions.push((label.clone(), s, Vec::new()));
    }
    let views: Vec<_> = inputs.iter().map(|t| t.view()).collect();
    for _ in 0..rounds.max(1) {
        for (_, s, samples) in &mut sessions {
            let t0 = Instant::now();
            for _ in 0..runs.max(1) {
                let out = s.run_views(&views)?;
                std::hint::black_box(out.first().map(|o| o.bytes().first()));
            }
            samples.push(t0.elapsed().as_secs_f64() * 1e3 / runs.max(1) as f64);
        }
    }
    Ok(sessions.into_iter().map(|(l, _, samples)| (l, median(&samples))).collect())
}

/// Rounds used by [`whole_network`] in the report.
pub const NETWORK_ROUNDS: usize = ROUNDS + 2;

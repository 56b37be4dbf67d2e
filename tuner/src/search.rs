//! The search over one layer's candidates: every applicable variant at its default
//! run-time parameters first, then coordinate descent over the run-time parameters of the
//! most promising variants, then a final interleaved run-off. An exhaustive search of the
//! same space exists for the report, to measure how much the short search gives away.

use std::collections::BTreeMap;
use std::time::Instant;

use ferrolite_runtime::kernel::KernelRegistry;
use ferrolite_runtime::profile::{Candidate, Entry, Pick};
use ferrolite_runtime::Result;

use crate::layers::Layer;
use crate::measure::{Config, Measured, measure};

/// Interleaved rounds per comparison.
pub const ROUNDS: usize = 3;

/// Variants whose run-time parameters are searched after the first pass.
pub const DESCEND: usize = 3;

/// The run-time parameter space of a variant: `(name, candidate values)`.
pub fn param_space(registry: &KernelRegistry, id: &str) -> Vec<(String, Vec<usize>)> {
    registry
        .by_id(id)
        .and_then(|f| f.variant())
        .map(|v| v.runtime_params.iter().map(|p| (p.name.to_string(), p.values.to_vec())).collect())
        .unwrap_or_default()
}

/// What a search found: every configuration measured (latest measurement of each), and
/// the winner of the final run-off.
#[derive(Debug, Clone)]
pub struct Found {
    /// The fastest configuration.
    pub best: Measured,
    /// The others, fastest first.
    pub others: Vec<Measured>,
}

impl Found {
    /// The profile entry for `layer`.
    pub fn entry(&self, layer: &Layer) -> Entry {
        let map = |c: &Config| c.params.iter().cloned().collect::<BTreeMap<String, usize>>();
        Entry {
            key: layer.key.clone(),
            pick: Pick { id: self.best.config.id.clone(), params: map(&self.best.config) },
            us: round2(self.best.median_us()),
            others: self
                .others
                .iter()
                .map(|m| Candidate { id: m.config.id.clone(), params: map(&m.config), us: round2(m.median_us()) })
                .collect(),
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn record(seen: &mut BTreeMap<Config, Measured>, measured: Vec<Measured>) {
    for m in measured {
        if !m.samples.is_empty() {
            seen.insert(m.config.clone(), m);
        }
    }
}

fn fastest(seen: &BTreeMap<Config, Measured>, id: &str) -> Option<Config> {
    seen.values()
        .filter(|m| m.config.id == id)
        .min_by(|a, b| a.median_us().total_cmp(&b.median_us()))
        .map(|m| m.config.clone())
}

fn finish(seen: BTreeMap<Config, Measured>, finalists: Vec<Measured>) -> Option<Found> {
    let mut finalists: Vec<Measured> = finalists.into_iter().filter(|m| !m.samples.is_empty()).collect();
    finalists.sort_by(|a, b| a.median_us().total_cmp(&b.median_us()));
    let best = finalists.first()?.clone();
    let mut others: Vec<Measured> = seen.into_values().filter(|m| m.config != best.config).collect();
    for f in finalists.into_iter().skip(1) {
        if let Some(o) = others.iter_mut().find(|o| o.config == f.config) {
            *o = f;
        }
    }
    others.sort_by(|a, b| a.median_us().total_cmp(&b.median_us()));
    Some(Found { best, others })
}

/// The short search, within `deadline` (the first pass always completes, so a layer gets
/// a pick even when its share of the budget is tiny). `progress` is told what is measured.
pub fn search(
    layer: &Layer,
    registry: &KernelRegistry,
    threads: usize,
    opencl: bool,
    deadline: Instant,
    progress: &dyn Fn(&str),
) -> Result<Option<Found>> {
    let ids = layer.candidates(registry, opencl)?;
    if ids.is_empty() {
        return Ok(None);
    }
    let mut seen: BTreeMap<Config, Measured> = BTreeMap::new();
    progress(&format!("{} variants at default parameters", ids.len()));
    let plain: Vec<Config> = ids.iter().map(Config::plain).collect();
    let far = Instant::now() + std::time::Duration::from_secs(3600);
    let first = Instant::now();
    record(&mut seen, measure(layer, registry, &plain, threads, ROUNDS, deadline.max(Instant::now()).min(far))?);
    // Rounds for the rest: as many as the layer's share of the budget allows for the
    // configurations still to come (between 3 and 9), estimated from
    // the first pass's cost per configuration and round.
    let per_config = first.elapsed().as_secs_f64() / (plain.len() * ROUNDS) as f64;
    let to_come: usize = seen
        .keys()
        .map(|c| param_space(registry, &c.id).iter().map(|(_, v)| v.len()).sum::<usize>())
        .take(DESCEND)
        .sum::<usize>()
        + DESCEND;
    let left = deadline.saturating_duration_since(Instant::now()).as_secs_f64();
    let rounds = ((left / (to_come.max(1) as f64 * per_config.max(1e-6))) as usize).clamp(ROUNDS, 3 * ROUNDS);

    // Coordinate descent on the run-time parameters of the best few variants.
    let mut ranked: Vec<&Measured> = seen.values().collect();
    ranked.sort_by(|a, b| a.median_us().total_cmp(&b.median_us()));
    let leaders: Vec<String> = ranked
        .iter()
        .map(|m| m.config.id.clone())
        .filter(|id| !param_space(registry, id).is_empty())
        .take(DESCEND)
        .collect();
    for id in &leaders {
        for (name, values) in param_space(registry, id) {
            if Instant::now() >= deadline {
                break;
            }
            let Some(current) = fastest(&seen, id) else { continue };
            progress(&format!("{id}: {name} in {values:?}"));
            let mut group = vec![current.clone()];
            group.extend(values.iter().map(|&v| current.with(&name, v)).filter(|c| *c != current));
            record(&mut seen, measure(layer, registry, &group, threads, rounds, deadline)?);
        }
    }

    // Run-off: the best configuration of each leading variant, side by side.
    let mut finalists: Vec<Config> = Vec::new();
    let mut by_speed: Vec<&Measured> = seen.values().collect();
    by_speed.sort_by(|a, b| a.median_us().total_cmp(&b.median_us()));
    for m in by_speed {
        if finalists.len() < DESCEND && !finalists.iter().any(|f| f.id == m.config.id) {
            finalists.push(m.config.clone());
        }
    }
    let measured = if finalists.len() > 1 && Instant::now() < deadline {
        progress("run-off");
        measure(layer, registry, &finalists, threads, rounds, deadline)?
    } else {
        finalists.iter().filter_map(|c| seen.get(c).cloned()).collect()
    };
    Ok(finish(seen, measured))
}

/// Every configuration of the space: each applicable variant with every combination of its
/// run-time parameters, one interleaved group per variant.
pub fn exhaustive(
    layer: &Layer,
    registry: &KernelRegistry,
    threads: usize,
    opencl: bool,
    progress: &dyn Fn(&str),
) -> Result<Option<Found>> {
    let far = Instant::now() + std::time::Duration::from_secs(24 * 3600);
    let mut seen: BTreeMap<Config, Measured> = BTreeMap::new();
    for id in layer.candidates(registry, opencl)? {
        let mut configs = vec![Config::plain(&id)];
        for (name, values) in param_space(registry, &id) {
            configs = configs.iter().flat_map(|c| values.iter().map(|&v| c.with(&name, v))).collect();
        }
        progress(&format!("{id}: {} configurations", configs.len()));
        record(&mut seen, measure(layer, registry, &configs, threads, 1, far)?);
    }
    let mut ranked: Vec<Config> = seen.keys().cloned().collect();
    ranked.sort_by(|a, b| seen[a].median_us().total_cmp(&seen[b].median_us()));
    ranked.truncate(DESCEND);
    let finalists = measure(layer, registry, &ranked, threads, ROUNDS, far)?;
    Ok(finish(seen, finalists))
}

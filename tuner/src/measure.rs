//! Timing candidates: one session per candidate, warmed up, then sampled in interleaved
//! rounds (every candidate once per round), so that a slow spell of a shared, noisy
//! machine hits all candidates alike. The statistic is the median over rounds of each
//! round's mean time per run.

use std::time::{Duration, Instant};

use ferrolite_runtime::kernel::KernelRegistry;
use ferrolite_runtime::{Result, Session, SessionOptions, Tensor};

use crate::layers::Layer;

/// A variant and its run-time parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Config {
    /// Variant id.
    pub id: String,
    /// Run-time parameters (sorted by name; empty: defaults).
    pub params: Vec<(String, usize)>,
}

impl Config {
    /// A variant with its default run-time parameters.
    pub fn plain(id: impl Into<String>) -> Config {
        Config { id: id.into(), params: Vec::new() }
    }

    /// `self` with one parameter set.
    pub fn with(&self, name: &str, value: usize) -> Config {
        let mut params: Vec<(String, usize)> = self.params.iter().filter(|(n, _)| n != name).cloned().collect();
        params.push((name.to_string(), value));
        params.sort();
        Config { id: self.id.clone(), params }
    }
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)?;
        for (n, v) in &self.params {
            write!(f, " {n}={v}")?;
        }
        Ok(())
    }
}

/// A measured candidate.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The candidate.
    pub config: Config,
    /// Mean microseconds per run, one sample per round.
    pub samples: Vec<f64>,
}

impl Measured {
    /// Median of the samples, microseconds.
    pub fn median_us(&self) -> f64 {
        median(&self.samples)
    }

    /// Interquartile range relative to the median (a noise estimate).
    pub fn spread(&self) -> f64 {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        if s.len() < 4 {
            return if s.is_empty() { 0.0 } else { (s[s.len() - 1] - s[0]) / median(&s).max(1e-9) };
        }
        let q = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
        (q(0.75) - q(0.25)) / median(&s).max(1e-9)
    }
}

/// The median (0 for no values).
pub fn median(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// How long one sample runs at least (several runs of a fast layer are averaged).
const SAMPLE_MIN: Duration = Duration::from_millis(2);

struct Live {
    config: Config,
    session: Session,
    samples: Vec<f64>,
}

/// Times `configs` on `layer` with `threads` threads: `rounds` interleaved rounds, stopping
/// early (after at least one round) at `deadline`. When the two fastest are closer than
/// their noise, up to `rounds` more rounds are taken (noise guard), deadline permitting.
/// Candidates that cannot be built here are dropped.
pub fn measure(
    layer: &Layer,
    registry: &KernelRegistry,
    configs: &[Config],
    threads: usize,
    rounds: usize,
    deadline: Instant,
) -> Result<Vec<Measured>> {
    let input = layer.input()?;
    let mut live = Vec::with_capacity(configs.len());
    for c in configs {
        let Ok(model) = layer.pinned_model(registry, &c.id, &c.params) else { continue };
        let Ok(mut session) = Session::new(std::sync::Arc::new(model), SessionOptions::new().with_threads(threads)) else {
            continue;
        };
        // Warm-up: caches, page faults, lazy OpenCL compilation.
        if session.run_views(&[input.view()]).is_err() {
            continue;
        }
        live.push(Live { config: c.clone(), session, samples: Vec::new() });
    }
    let mut done = 0;
    let mut limit = rounds.max(1);
    while done < limit {
        for l in &mut live {
            l.samples.push(sample(&mut l.session, &input)?);
        }
        done += 1;
        if Instant::now() >= deadline {
            break;
        }
        if done == limit && limit == rounds.max(1) && too_close(&live) {
            limit += rounds.max(1);
        }
    }
    Ok(live.into_iter().map(|l| Measured { config: l.config, samples: l.samples }).collect())
}

/// Whether the two fastest candidates differ by less than their measured noise.
fn too_close(live: &[Live]) -> bool {
    let mut m: Vec<Measured> =
        live.iter().map(|l| Measured { config: l.config.clone(), samples: l.samples.clone() }).collect();
    if m.len() < 2 {
        return false;
    }
    m.sort_by(|a, b| a.median_us().total_cmp(&b.median_us()));
    let gap = (m[1].median_us() - m[0].median_us()) / m[0].median_us().max(1e-9);
    gap < m[0].spread().max(m[1].spread())
}

/// Mean microseconds per run over at least [`SAMPLE_MIN`].
fn sample(session: &mut Session, input: &Tensor) -> Result<f64> {
    let start = Instant::now();
    let mut runs = 0u32;
    while runs == 0 || start.elapsed() < SAMPLE_MIN {
        let out = session.run_views(&[input.view()])?;
        std::hint::black_box(out.first().map(|o| o.bytes().first()));
        runs += 1;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(runs))
}

//! Sessions: a model plus a thread pool, an activation arena and cached plans.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ir::AlignedBytes;
use crate::kernel::Parallel;
use crate::model::Model;
use crate::plan::{Plan, PlanOptions};
use crate::profile::Profile;
use crate::select;
use crate::tensor::{Tensor, TensorView, TensorViewMut};

/// Plans kept per session, one per distinct set of input shapes (least recently used
/// dropped first).
const PLAN_CACHE: usize = 8;

/// Options of a [`Session`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// A device profile (from `ferrolite tune`) whose picks replace the heuristic. It is
    /// used only if it matches this machine and kernel set; otherwise the session says why
    /// in [`Session::profile_warning`] and plans with the heuristic. `None`: the profile
    /// baked into the build with `FERROLITE_PROFILE` ([`crate::profile::builtin`]), if any.
    pub profile: Option<Arc<Profile>>,
}

impl SessionOptions {
    /// Default options (one thread per core).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of worker threads (0: one per available core).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Uses a device profile (see [`SessionOptions::profile`]).
    pub fn with_profile(mut self, profile: Arc<Profile>) -> Self {
        self.profile = Some(profile);
        self
    }
}

/// Runs a [`Model`]: owns the thread pool, the activation arena and the plans.
///
/// A session is used from one thread at a time (`&mut self`); create one session per
/// concurrent caller, all sharing the same `Arc<Model>` (weights are loaded and packed once).
pub struct Session {
    model: Arc<Model>,
    pool: Option<crate::pool::ThreadPool>,
    threads: usize,
    plans: Vec<Arc<Plan>>,
    arena: AlignedBytes,
    workspace: AlignedBytes,
    /// The profile in use (checked), if any.
    profile: Option<Arc<Profile>>,
    /// Why the given profile is not used.
    profile_warning: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("threads", &self.threads).field("plans", &self.plans.len()).finish()
    }
}

impl Session {
    /// Creates a session. If every input shape is fixed, the plan (kernel choice, weight
    /// packing, memory) is made here; otherwise at the first run with each new shape.
    pub fn new(model: Arc<Model>, options: SessionOptions) -> Result<Session> {
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            t => t,
        };
        // One thread runs on the caller with no pool at all. With more, the caller runs the
        // plan and takes part in every operator's work-items.
        let pool = if threads > 1 {
            Some(
                crate::pool::ThreadPool::new(threads)
                    .map_err(|e| Error::Unsupported(format!("cannot start {threads} threads: {e}")))?,
            )
        } else {
            None
        };
        // A profile measured elsewhere or for other kernels is never applied silently. With
        // none given, the one baked in at build time (FERROLITE_PROFILE), if any.
        let given = match options.profile {
            Some(p) => Some(Ok(p)),
            None => crate::profile::builtin().map(|parsed| parsed.map(Arc::new)),
        };
        let (profile, profile_warning) = match given {
            None => (None, None),
            Some(Err(e)) => (None, Some(format!("profile not used, planning with the {} heuristic: {e}", select::HEURISTIC))),
            Some(Ok(p)) => match p.check(model.registry()) {
                Ok(()) => (Some(p), None),
                Err(why) => (None, Some(format!("profile not used, planning with the {} heuristic: {why}", select::HEURISTIC))),
            },
        };
        let mut session = Session {
            model,
            pool,
            threads,
            plans: Vec::new(),
            arena: AlignedBytes::default(),
            workspace: AlignedBytes::default(),
            profile,
            profile_warning,
        };
        let fixed: Option<Vec<Vec<usize>>> =
            session.model.inputs().iter().map(|i| i.shape.iter().map(|d| d.fixed()).collect()).collect();
        if let Some(shapes) = fixed {
            session.plan_for(&shapes)?;
        }
        Ok(session)
    }

    /// Why the profile given in the options is not used (another device or kernel set),
    /// or `None` when it is used or none was given.
    pub fn profile_warning(&self) -> Option<&str> {
        self.profile_warning.as_deref()
    }

    /// The profile the session plans with, if any.
    pub fn profile(&self) -> Option<&Arc<Profile>> {
        self.profile.as_ref()
    }

    /// The model.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The plan for these input shapes, made and cached on first use.
    pub fn plan_for(&mut self, input_shapes: &[Vec<usize>]) -> Result<Arc<Plan>> {
        if let Some(plan) = self.cached_plan(|shapes| shapes == input_shapes) {
            return Ok(plan);
        }
        let options = PlanOptions { profile: self.profile.clone(), threads: self.threads };
        let plan = Arc::new(Plan::with_options(&self.model, input_shapes, &options)?);
        self.plans.insert(0, plan.clone());
        self.plans.truncate(PLAN_CACHE);
        let alloc = |bytes: usize, what: &str| {
            AlignedBytes::try_zeroed(bytes)
                .ok_or_else(|| Error::Input(format!("cannot allocate {bytes} bytes for the {what} of this model")))
        };
        if self.arena.len() < plan.arena_bytes() {
            self.arena = alloc(plan.arena_bytes(), "activation arena")?;
        }
        if self.workspace.len() < plan.workspace_bytes() {
            self.workspace = alloc(plan.workspace_bytes(), "kernel workspace")?;
        }
        Ok(plan)
    }

    /// The plan for these inputs' shapes: a cached one (found without allocating), else a
    /// new one.
    fn plan_for_views(&mut self, inputs: &[TensorView<'_>]) -> Result<Arc<Plan>> {
        let same = |shapes: &[Vec<usize>]| {
            shapes.len() == inputs.len() && shapes.iter().zip(inputs).all(|(s, v)| s.as_slice() == v.shape())
        };
        if let Some(plan) = self.cached_plan(same) {
            return Ok(plan);
        }
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|v| v.shape().to_vec()).collect();
        self.plan_for(&shapes)
    }

    /// The cached plan whose input shapes satisfy `matches`, moved to the front of the cache
    /// (most recently used). Allocates nothing.
    fn cached_plan(&mut self, matches: impl Fn(&[Vec<usize>]) -> bool) -> Option<Arc<Plan>> {
        let pos = self.plans.iter().position(|p| matches(p.input_shapes()))?;
        let plan = self.plans.remove(pos);
        self.plans.insert(0, plan.clone());
        Some(plan)
    }

    fn check_inputs(&self, inputs: &[TensorView<'_>]) -> Result<()> {
        let declared = self.model.inputs();
        if inputs.len() != declared.len() {
            return Err(Error::Input(format!("the model takes {} inputs, got {}", declared.len(), inputs.len())));
        }
        for (view, info) in inputs.iter().zip(declared) {
            if view.dtype() != info.dtype {
                return Err(Error::Input(format!("input \"{}\" must be {}, got {}", info.name, info.dtype, view.dtype())));
            }
        }
        Ok(())
    }

    /// Runs the model on `inputs` (in the model's input order) and runs `f` on the plan and
    /// the arena holding the results.
    fn execute<R>(&mut self, inputs: &[TensorView<'_>], f: impl FnOnce(&Plan, &[u8]) -> Result<R>) -> Result<R> {
        self.execute_timed(inputs, None, f)
    }

    /// [`Session::execute`], writing each step's wall time to `step_times` when given.
    fn execute_timed<R>(
        &mut self,
        inputs: &[TensorView<'_>],
        step_times: Option<&mut Vec<std::time::Duration>>,
        f: impl FnOnce(&Plan, &[u8]) -> Result<R>,
    ) -> Result<R> {
        self.check_inputs(inputs)?;
        let plan = self.plan_for_views(inputs)?;
        let times = step_times.map(|t| {
            t.clear();
            t.resize(plan.steps().len(), std::time::Duration::ZERO);
            t.as_mut_slice()
        });
        let graph = self.model.graph();
        let arena = self.arena.as_mut_slice();
        let workspace = self.workspace.as_mut_slice();
        match &self.pool {
            Some(pool) => {
                let par = Parallel::new(pool);
                plan.execute(graph, inputs, arena, workspace, &par, times)?;
            }
            None => plan.execute(graph, inputs, arena, workspace, &Parallel::SERIAL, times)?,
        }
        f(&plan, self.arena.as_slice())
    }

    /// Runs the model like [`Session::run_views`] but reads nothing back, and writes the
    /// wall time of every step into `step_times` (one entry per step of the plan for these
    /// input shapes, in [`Plan::steps`] order): where a run's time goes, for `ferrolite bench
    /// --layers`. Timing costs two clock reads per step.
    pub fn run_timed(&mut self, inputs: &[TensorView<'_>], step_times: &mut Vec<std::time::Duration>) -> Result<()> {
        self.execute_timed(inputs, Some(step_times), |_, _| Ok(()))
    }

    /// Runs the model and returns its outputs in the model's output order.
    pub fn run(&mut self, inputs: &[TensorView<'_>]) -> Result<Vec<Tensor>> {
        let n = self.model.outputs().len();
        self.execute(inputs, |plan, arena| {
            (0..n)
                .map(|i| {
                    let shape = plan.output_shape(i).unwrap_or_default();
                    let dtype = plan.output_dtype(i).ok_or_else(|| Error::Input(format!("no output {i}")))?;
                    Tensor::from_bytes(dtype, shape, plan.output_bytes(i, arena)?)
                })
                .collect()
        })
    }

    /// Runs the model and lends its outputs (in the model's output order) straight from the
    /// session's memory, without copying them; they stay valid until the session is used
    /// again. Inputs are read in place when they are aligned for their element type, so a
    /// run through this method copies no activation at all.
    pub fn run_views(&mut self, inputs: &[TensorView<'_>]) -> Result<Vec<TensorView<'_>>> {
        self.execute(inputs, |_, _| Ok(()))?;
        // `execute` left the plan it ran first in the cache.
        let plan = self.plans.first().ok_or_else(|| Error::Input("no plan ran".into()))?;
        let arena = self.arena.as_slice();
        (0..self.model.outputs().len())
            .map(|i| {
                let shape = plan.output_shape(i).unwrap_or_default();
                let dtype = plan.output_dtype(i).ok_or_else(|| Error::Input(format!("no output {i}")))?;
                TensorView::new(dtype, shape, plan.output_bytes(i, arena)?)
            })
            .collect()
    }

    /// Runs the model with inputs given by name (any order; every input must be given).
    pub fn run_named(&mut self, inputs: &[(&str, TensorView<'_>)]) -> Result<Vec<Tensor>> {
        let ordered = self.order_named(inputs)?;
        self.run(&ordered)
    }

    fn order_named<'a>(&self, inputs: &[(&str, TensorView<'a>)]) -> Result<Vec<TensorView<'a>>> {
        let declared = self.model.inputs();
        for (name, _) in inputs {
            if !declared.iter().any(|d| d.name == *name) {
                let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
                return Err(Error::Input(format!("the model has no input \"{name}\" (inputs: {})", names.join(", "))));
            }
        }
        declared
            .iter()
            .map(|d| {
                let mut found = inputs.iter().filter(|(n, _)| *n == d.name);
                match (found.next(), found.next()) {
                    (Some((_, v)), None) => Ok(*v),
                    (None, _) => Err(Error::Input(format!("input \"{}\" is missing", d.name))),
                    (Some(_), Some(_)) => Err(Error::Input(format!("input \"{}\" is given twice", d.name))),
                }
            })
            .collect()
    }

    /// Runs the model and writes the outputs into caller-provided buffers (in the model's
    /// output order), which must have the right dtype and shape.
    pub fn run_into(&mut self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<()> {
        let model = self.model.clone();
        let names = model.outputs();
        if outputs.len() != names.len() {
            return Err(Error::Input(format!("the model has {} outputs, got {} buffers", names.len(), outputs.len())));
        }
        self.execute(inputs, |plan, arena| {
            for (i, out) in outputs.iter_mut().enumerate() {
                let shape = plan.output_shape(i).unwrap_or_default();
                let dtype = plan.output_dtype(i).ok_or_else(|| Error::Input(format!("no output {i}")))?;
                if out.dtype() != dtype || out.shape() != shape {
                    return Err(Error::Input(format!(
                        "output \"{}\" is {dtype} {shape:?}, the buffer is {} {:?}",
                        names[i].name,
                        out.dtype(),
                        out.shape()
                    )));
                }
                out.bytes_mut().copy_from_slice(plan.output_bytes(i, arena)?);
            }
            Ok(())
        })
    }
}

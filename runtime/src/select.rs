//! Which kernel variant runs a node, and why.
//!
//! In order:
//! 1. **Profile**: the device profile's entry for the node's [`Key`], or the nearest entry
//!    of its family (see [`crate::profile`]), if its pick applies to the node here.
//! 2. **Heuristic** `mslite-cascade` (the fixed rules of MindSpore Lite's convolution
//!    selection), for convolutions:
//!    - depthwise: the sliding-window depthwise kernel;
//!    - square kernel, stride 1, dilation 1, more than one input channel, and a 3x3 window
//!      (the tiles Ferrolite has): Winograd, with the output tile `m` of F(m, 3) that needs
//!      the fewest multiplies (transform-domain products plus input and output transforms,
//!      see [`winograd_multiplies`]), if that is fewer than the direct convolution's;
//!    - 1x1: GEMM (a plain one when unpadded with stride 1);
//!    - fewer than [`SLIDING_MAX_ICG`] input channels per group, or groups: the sliding
//!      window (MindSpore Lite's AVX cascade takes it for up to 64 input channels per
//!      thread; measured here, Im2Col + GEMM wins above a few channels);
//!    - anything else: Im2Col + GEMM.
//!
//!    Among the variants of the chosen algorithm, the widest ISA wins, then (for register-
//!    tiled algorithms, compile parameters `MR` and `NV`) the tile whose `NV` vectors of
//!    output channels waste the fewest padded channels (ties: the wider tile), with `MR *
//!    NV` nearest 8 accumulators ([`tile_fit`]), else the declared defaults.
//! 3. **Priority**: for other operators (or when the chosen algorithm has no applicable
//!    variant), the applicable variant of highest priority.

use std::sync::Arc;

use ferrolite_dsl::variant::OpSignature;
use ferrolite_kernels::sig::Conv2dSig;

use crate::kernel::{KernelFactory, KernelRegistry, NodeCtx};
use crate::profile::{Key, Profile};

/// The heuristic's name, as `ferrolite plan` prints it.
pub const HEURISTIC: &str = "mslite-cascade";

/// Why a node runs the variant it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The profile's entry for exactly this layer signature.
    Profile,
    /// The profile's nearest entry, at this key distance.
    Nearest {
        /// Distance between the node's key and the entry's.
        distance: f64,
    },
    /// A rule of the heuristic.
    Heuristic {
        /// The rule that decided.
        rule: String,
    },
    /// The applicable variant of highest priority.
    Priority,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Profile => f.write_str("profile"),
            Reason::Nearest { distance } => write!(f, "profile, nearest entry (distance {distance:.2})"),
            Reason::Heuristic { rule } => write!(f, "heuristic {HEURISTIC}: {rule}"),
            Reason::Priority => f.write_str("highest priority (no profile key or heuristic rule for this operator)"),
        }
    }
}

/// A chosen variant, the run-time parameters to build it with, and why.
#[derive(Clone)]
pub struct Selection {
    /// The variant.
    pub factory: Arc<dyn KernelFactory>,
    /// Run-time parameters (empty: defaults).
    pub params: Vec<(String, usize)>,
    /// Why.
    pub reason: Reason,
}

impl std::fmt::Debug for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selection")
            .field("id", &self.factory.id())
            .field("params", &self.params)
            .field("reason", &self.reason)
            .finish()
    }
}

/// The profile key of a node run with `threads` threads, for the operators profiles cover
/// (f32 2-D convolutions with constant weights).
pub fn key_of(ctx: &NodeCtx<'_>, threads: usize) -> Option<Key> {
    let s = Conv2dSig::from_node(ctx)?;
    Some(Key {
        op: "conv2d".into(),
        n: s.n,
        ic: s.ic,
        oc: s.oc,
        k: s.kernel,
        s: s.stride,
        d: s.dilation,
        groups: s.groups,
        pad: [s.pad[0], s.pad[1], s.pad_end[0], s.pad_end[1]],
        hw: [s.ih, s.iw],
        threads,
    })
}

/// Multiplications of Winograd F(m, 3) on this convolution: per `m x m` output tile, the
/// `n x n` (`n = m + 2`) transform-domain products for every input and output channel
/// pair, the input transform (`2 n^3` per input channel: `B^T d B`) and the output
/// transform (`n^2 m + n m^2` per output channel: `A^T M A`).
pub fn winograd_multiplies(s: &Conv2dSig, m: usize) -> u64 {
    let n = (m + 2) as u64;
    let m64 = m as u64;
    let tiles = (s.n * s.oh.div_ceil(m) * s.ow.div_ceil(m)) as u64;
    let (ic, oc) = (s.ic as u64, s.oc as u64);
    tiles * (n * n * ic * oc + 2 * n * n * n * ic + (n * n * m64 + n * m64 * m64) * oc)
}

/// What the heuristic runs a convolution with: an algorithm name, the Winograd tile
/// (compile parameter `M`) when it is Winograd, and the rule that decided.
pub fn heuristic_conv(s: &Conv2dSig, winograd_tiles: &[usize]) -> (&'static str, Option<usize>, String) {
    if s.is_depthwise() {
        return ("depthwise", None, "depthwise: sliding window".into());
    }
    let square = s.kernel[0] == s.kernel[1];
    if s.groups == 1 && square && s.kernel == [3, 3] && s.stride == [1, 1] && s.dilation == [1, 1] && s.ic > 1 {
        let direct = (s.n * s.oh * s.ow * 9 * s.ic * s.oc) as u64;
        let best = winograd_tiles.iter().map(|&m| (winograd_multiplies(s, m), m)).min();
        if let Some((cost, m)) = best.filter(|(cost, _)| *cost < direct) {
            let rule = format!(
                "3x3 stride 1: Winograd F({m},3), {:.2}x fewer multiplies than direct",
                direct as f64 / cost.max(1) as f64
            );
            return ("winograd", Some(m), rule);
        }
    }
    if s.kernel == [1, 1] && s.groups == 1 {
        return ("gemm", None, "1x1 as GEMM".into());
    }
    if s.groups > 1 {
        return ("direct", None, "grouped: sliding window".into());
    }
    if s.icg() < SLIDING_MAX_ICG {
        return ("direct", None, format!("{} input channels: sliding window (no Im2Col copy)", s.icg()));
    }
    ("gemm", None, "Im2Col + GEMM".into())
}

/// Convolutions with fewer input channels per group than this run the sliding window
/// rather than Im2Col + GEMM: with a handful of channels per tap, the Im2Col copy costs as
/// much as the product (the 3-channel stem of inception_v3, AVX-512: 0.59 ms sliding,
/// 1.87 ms Im2Col + GEMM).
pub const SLIDING_MAX_ICG: usize = 8;

/// How well a register tile of `mr` rows by `nv` vectors of `lanes` output channels fits
/// `oc` channels, as an ordering key (larger is better): first the fraction of computed
/// channels that are real (`oc` over `oc` rounded up to whole `nv * lanes` panels), then the
/// wider panel (fewer loads per FMA), then `mr * nv` nearest 8 accumulators (what the tuner
/// picks most often on AVX-512 and AVX2: 4x2, 6x1, 4x3).
pub fn tile_fit(oc: usize, lanes: usize, mr: usize, nv: usize) -> (u64, usize, std::cmp::Reverse<usize>) {
    let nr = (nv * lanes).max(1);
    let padded = oc.div_ceil(nr) * nr;
    let used = (oc as u64 * 1_000_000) / padded.max(1) as u64;
    (used, nv, std::cmp::Reverse((mr * nv).abs_diff(8)))
}

/// The variant for a node: see the module documentation. `None` when nothing applies.
pub fn select(registry: &KernelRegistry, ctx: &NodeCtx<'_>, profile: Option<&Profile>, threads: usize) -> Option<Selection> {
    let applicable = registry.applicable(ctx);
    let first = applicable.first()?;
    // A factory that outranks every variant (tests and benches pin one) is not second-guessed.
    if first.priority() == i32::MAX {
        return Some(Selection { factory: (*first).clone(), params: Vec::new(), reason: Reason::Priority });
    }
    if let (Some(profile), Some(key)) = (profile, key_of(ctx, threads)) {
        let found = profile.lookup(&key, |e| applicable.iter().any(|f| f.id() == e.pick.id));
        if let Some((entry, distance)) = found {
            if let Some(f) = applicable.iter().find(|f| f.id() == entry.pick.id) {
                let reason = if distance == 0.0 { Reason::Profile } else { Reason::Nearest { distance } };
                return Some(Selection { factory: (*f).clone(), params: entry.pick.param_list(), reason });
            }
        }
    }
    heuristic(&applicable, ctx).or_else(|| Some(Selection { factory: (*first).clone(), params: Vec::new(), reason: Reason::Priority }))
}

/// The heuristic's choice among `applicable` (best first), for convolutions.
pub fn heuristic(applicable: &[&Arc<dyn KernelFactory>], ctx: &NodeCtx<'_>) -> Option<Selection> {
    let s = Conv2dSig::from_node(ctx)?;
    let tile = |f: &Arc<dyn KernelFactory>| {
        f.variant().and_then(|v| v.compile_params.iter().find(|(n, _)| *n == "M").map(|(_, m)| *m))
    };
    let mut tiles: Vec<usize> = applicable
        .iter()
        .filter(|f| f.variant().is_some_and(|v| v.algorithm == "winograd"))
        .filter_map(|f| tile(f))
        .collect();
    tiles.sort_unstable();
    tiles.dedup();
    let (algorithm, m, rule) = heuristic_conv(&s, &tiles);
    // `applicable` is sorted by priority and preference (widest ISA, default parameters).
    let of_algorithm = |f: &&&Arc<dyn KernelFactory>| {
        f.variant().is_some_and(|v| v.algorithm == algorithm) && (m.is_none() || tile(f) == m)
    };
    let first = applicable.iter().find(of_algorithm)?;
    let target = first.variant()?.target;
    // Register-tiled algorithms: the tile that fits the output channels, on that ISA.
    let fit = |f: &Arc<dyn KernelFactory>| {
        let v = f.variant()?;
        let param = |n: &str| v.compile_params.iter().find(|(p, _)| *p == n).map(|(_, x)| *x);
        let lanes = match v.target {
            crate::variant::Target::Cpu(isa) => isa.lanes(),
            crate::variant::Target::OpenCl => 4,
        };
        Some(tile_fit(s.ocg(), lanes, param("MR")?, param("NV")?))
    };
    let pick = applicable
        .iter()
        .filter(of_algorithm)
        .filter(|f| f.variant().is_some_and(|v| v.target == target))
        .filter(|f| fit(f).is_some())
        .max_by_key(|f| fit(f))
        .unwrap_or(first);
    Some(Selection { factory: (*pick).clone(), params: Vec::new(), reason: Reason::Heuristic { rule } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrolite_kernels::sig::{ACT_NONE, Act};

    fn conv(ic: usize, oc: usize, hw: usize, k: usize, stride: usize) -> Conv2dSig {
        let p = k / 2;
        let o = (hw + 2 * p - k) / stride + 1;
        Conv2dSig {
            n: 1,
            ih: hw,
            iw: hw,
            ic,
            oh: o,
            ow: o,
            oc,
            kernel: [k, k],
            stride: [stride, stride],
            dilation: [1, 1],
            pad: [p, p],
            pad_end: [p, p],
            groups: 1,
            no_padding: p == 0,
            has_bias: true,
            has_residual: false,
            act: Act { code: ACT_NONE, a: 0.0, b: 0.0 },
        }
    }

    #[test]
    fn the_cascade_follows_its_rules() {
        let tiles = [2, 4, 6];
        // A large 3x3: Winograd with a large tile.
        let (alg, m, _) = heuristic_conv(&conv(64, 64, 56, 3, 1), &tiles);
        assert_eq!((alg, m), ("winograd", Some(6)));
        // A 7x7 output: F(6,3) would waste most of its second tile row; F(4,3) or less wins.
        let (alg, m, _) = heuristic_conv(&conv(512, 512, 7, 3, 1), &tiles);
        assert_eq!(alg, "winograd");
        assert!(m.unwrap() <= 4, "{m:?}");
        // One input channel: the transforms cost more than they save; the sliding window
        // needs no Im2Col copy.
        assert_eq!(heuristic_conv(&conv(1, 8, 28, 3, 1), &tiles).0, "direct");
        assert_eq!(heuristic_conv(&conv(3, 32, 224, 3, 2), &tiles).0, "direct");
        let mut grouped = conv(32, 64, 28, 3, 1);
        grouped.groups = 2;
        assert_eq!(heuristic_conv(&grouped, &tiles).0, "direct");
        // Stride 2, 1x1 and 5x5.
        assert_eq!(heuristic_conv(&conv(64, 64, 56, 3, 2), &tiles).0, "gemm");
        assert_eq!(heuristic_conv(&conv(64, 64, 56, 1, 1), &tiles).2, "1x1 as GEMM");
        assert_eq!(heuristic_conv(&conv(64, 64, 56, 5, 1), &tiles).2, "Im2Col + GEMM");
        // No Winograd variants available: GEMM.
        assert_eq!(heuristic_conv(&conv(64, 64, 56, 3, 1), &[]).0, "gemm");
        let mut dw = conv(32, 32, 56, 3, 1);
        dw.groups = 32;
        assert_eq!(heuristic_conv(&dw, &tiles).0, "depthwise");
    }

    #[test]
    fn tiles_fit_the_output_channels() {
        let best = |oc: usize, lanes: usize| {
            let tiles = [(6, 1), (12, 1), (4, 2), (6, 2), (8, 2), (4, 3), (8, 3)];
            tiles.into_iter().max_by_key(|&(mr, nv)| tile_fit(oc, lanes, mr, nv)).unwrap()
        };
        // AVX-512 (16 lanes): 16 and 80 channels in one-vector panels, 48 and 144 in
        // three-vector ones, 32, 64, 192 and 1000 (the least padding) in two-vector ones.
        assert_eq!(best(16, 16), (6, 1));
        assert_eq!(best(80, 16), (6, 1));
        assert_eq!(best(48, 16), (4, 3));
        assert_eq!(best(144, 16), (4, 3));
        assert_eq!(best(64, 16), (4, 2));
        assert_eq!(best(192, 16), (4, 3));
        // AVX2 (8 lanes): 24 channels in a three-vector panel.
        assert_eq!(best(24, 8), (4, 3));
    }

    #[test]
    fn winograd_multiplies_by_hand() {
        // 4x4 output, 1 in, 1 out, F(2,3): 4 tiles of (16 + 2*64 + (16*2 + 4*4)) = 4 * 192.
        let s = conv(1, 1, 4, 3, 1);
        assert_eq!(winograd_multiplies(&s, 2), 4 * 192);
    }
}

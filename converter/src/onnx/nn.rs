//! Convolutions, pooling, normalization and dense layers. ONNX is NCHW; each spatial
//! operator becomes the NHWC IR operator between two transposes (see
//! [`Importer::nhwc_wrap`]), and 1-D operators run as 2-D ones with `H = 1`.

use ferrolite_runtime::ir::{
    BatchNorm, Conv2d, ConvTranspose2d, Gemm, Op, Padding, Pool2d, PoolKind, Reduce, ReduceKind, TensorId,
};

use super::importer::{AttrResultExt, Importer, NodeCx};
use crate::Result;

/// Spatial attributes shared by convolutions and pooling, lifted to 2-D.
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
}

/// Converts a list of non-negative attribute values to `usize`.
fn to_usizes(cx: &NodeCx<'_>, name: &str, values: &[i64], min: usize) -> Result<Vec<usize>> {
    values
        .iter()
        .map(|&v| usize::try_from(v).ok().filter(|&v| v >= min))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| cx.invalid(format!("`{name}` {values:?} must hold values >= {min}")))
}

/// A per-axis attribute of `n` values (`default` when absent), lifted to 2-D: a 1-D value
/// `[v]` becomes `[lift, v]`.
fn per_axis(cx: &NodeCx<'_>, name: &str, n: usize, default: usize, min: usize, lift: usize) -> Result<[usize; 2]> {
    let values = match cx.attrs.ints(name).at(cx)? {
        Some(v) => {
            if v.len() != n {
                return Err(cx.invalid(format!("`{name}` has {} values for {n} spatial dims", v.len())));
            }
            to_usizes(cx, name, v, min)?
        }
        None => vec![default; n],
    };
    Ok(match *values.as_slice() {
        [v] => [lift, v],
        [a, b] => [a, b],
        _ => return Err(cx.invalid(format!("`{name}` must have 1 or 2 values"))),
    })
}

impl Importer {
    /// Number of spatial dims of a convolution or pooling node, checked to be 1 or 2.
    fn spatial_rank(&self, cx: &NodeCx<'_>, x: TensorId, w: Option<TensorId>) -> Result<usize> {
        let from_kernel = cx.attrs.ints("kernel_shape").at(cx)?.map(<[i64]>::len);
        let from_weight = w.and_then(|w| self.rank(w)).map(|r| r.saturating_sub(2));
        let from_input = self.rank(x).map(|r| r.saturating_sub(2));
        let s = from_kernel
            .or(from_weight)
            .or(from_input)
            .ok_or_else(|| cx.unsupported("cannot tell the number of spatial dims (no kernel_shape, unknown weight and input ranks)"))?;
        if let Some(r) = from_input
            && r != s
        {
            return Err(cx.invalid(format!("input has {r} spatial dims, the kernel {s}")));
        }
        match s {
            1 | 2 => Ok(s),
            0 => Err(cx.invalid("no spatial dims")),
            s => Err(cx.unsupported(format!("{s}-D spatial data; Ferrolite supports 1-D and 2-D"))),
        }
    }

    /// Reads `kernel_shape` (or takes `weight_kernel`), `strides`, `dilations`, `pads` and
    /// `auto_pad`.
    fn window(&self, cx: &NodeCx<'_>, s: usize, weight_kernel: Option<Vec<usize>>) -> Result<Window> {
        let kernel = match (cx.attrs.ints("kernel_shape").at(cx)?, weight_kernel) {
            (Some(k), w) => {
                if k.len() != s {
                    return Err(cx.invalid(format!("`kernel_shape` {k:?} does not have {s} values")));
                }
                let k = to_usizes(cx, "kernel_shape", k, 1)?;
                if let Some(w) = w
                    && w != k
                {
                    return Err(cx.invalid(format!("`kernel_shape` {k:?} does not match the weight's kernel {w:?}")));
                }
                k
            }
            (None, Some(w)) => w,
            (None, None) => return Err(cx.unsupported("no `kernel_shape` and the weight's shape is unknown")),
        };
        let kernel = match *kernel.as_slice() {
            [k] => [1, k],
            [kh, kw] => [kh, kw],
            _ => return Err(cx.invalid("kernel must have 1 or 2 dims")),
        };
        if kernel.contains(&0) {
            return Err(cx.invalid("kernel has a zero-sized dim"));
        }
        let stride = per_axis(cx, "strides", s, 1, 1, 1)?;
        let dilation = per_axis(cx, "dilations", s, 1, 1, 1)?;
        let pads = match cx.attrs.ints("pads").at(cx)? {
            Some(p) => {
                if p.len() != 2 * s {
                    return Err(cx.invalid(format!("`pads` {p:?} must have {} values", 2 * s)));
                }
                to_usizes(cx, "pads", p, 0)?
            }
            None => vec![0; 2 * s],
        };
        let auto_pad = cx.attrs.string_or("auto_pad", "NOTSET").at(cx)?;
        let explicit = match *pads.as_slice() {
            [begin, end] => Padding::Explicit { top: 0, left: begin, bottom: 0, right: end },
            [top, left, bottom, right] => Padding::Explicit { top, left, bottom, right },
            _ => return Err(cx.invalid("pads must have 2 or 4 values")),
        };
        let padding = match auto_pad {
            "NOTSET" | "" => explicit,
            other => {
                if pads.iter().any(|&p| p != 0) {
                    return Err(cx.invalid(format!("`pads` {pads:?} given together with auto_pad {other}")));
                }
                match other {
                    "SAME_UPPER" => Padding::SameUpper,
                    "SAME_LOWER" => Padding::SameLower,
                    "VALID" => Padding::VALID,
                    _ => return Err(cx.unsupported(format!("auto_pad \"{other}\""))),
                }
            }
        };
        Ok(Window { kernel, stride, dilation, padding })
    }

    /// The group count (`group`, at least 1).
    fn groups(&self, cx: &NodeCx<'_>) -> Result<usize> {
        let g = cx.attrs.int_or("group", 1).at(cx)?;
        usize::try_from(g).ok().filter(|&g| g >= 1).ok_or_else(|| cx.invalid(format!("`group` {g} must be >= 1")))
    }

    /// The spatial kernel of a weight `[A, B, k...]` if its shape is known.
    fn weight_kernel(&self, w: TensorId) -> Option<Vec<usize>> {
        self.fixed_shape(w).and_then(|s| s.get(2..).map(<[usize]>::to_vec))
    }

    /// `Conv`.
    pub(super) fn conv(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let w = self.req_input(cx, 1)?;
        let bias = self.input(cx, 2)?;
        let s = self.spatial_rank(cx, x, Some(w))?;
        let win = self.window(cx, s, self.weight_kernel(w))?;
        let groups = self.groups(cx)?;
        let weight = self.weight_to_ohwi(cx, w, s)?;
        let op = Op::Conv2d(Conv2d {
            kernel: win.kernel,
            stride: win.stride,
            dilation: win.dilation,
            padding: win.padding,
            groups,
            activation: Default::default(),
        });
        self.nhwc_wrap(cx, x, s, op, vec![Some(weight), bias])
    }

    /// `ConvTranspose`.
    pub(super) fn conv_transpose(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let w = self.req_input(cx, 1)?;
        let bias = self.input(cx, 2)?;
        let s = self.spatial_rank(cx, x, Some(w))?;
        let win = self.window(cx, s, self.weight_kernel(w))?;
        let groups = self.groups(cx)?;
        let output_padding = per_axis(cx, "output_padding", s, 0, 0, 0)?;
        let output_size = match cx.attrs.ints("output_shape").at(cx)? {
            None => None,
            Some(v) => {
                if v.len() != s {
                    return Err(cx.invalid(format!("`output_shape` {v:?} must give the {s} spatial dims")));
                }
                Some(match *to_usizes(cx, "output_shape", v, 1)?.as_slice() {
                    [l] => [1, l],
                    [h, w] => [h, w],
                    _ => return Err(cx.invalid("`output_shape` must have 1 or 2 values")),
                })
            }
        };
        let weight = self.weight_to_ohwi(cx, w, s)?;
        let op = Op::ConvTranspose2d(ConvTranspose2d {
            kernel: win.kernel,
            stride: win.stride,
            dilation: win.dilation,
            padding: win.padding,
            output_padding,
            output_size,
            groups,
            activation: Default::default(),
        });
        self.nhwc_wrap(cx, x, s, op, vec![Some(weight), bias])
    }

    /// `MaxPool` and `AveragePool`.
    pub(super) fn pool(&mut self, cx: &NodeCx<'_>, kind: PoolKind) -> Result<()> {
        cx.only_outputs(1, "Indices")?;
        let x = self.req_input(cx, 0)?;
        if !cx.attrs.has("kernel_shape") {
            return Err(cx.invalid("`kernel_shape` is required"));
        }
        let s = self.spatial_rank(cx, x, None)?;
        let win = self.window(cx, s, None)?;
        let ceil_mode = cx.attrs.flag("ceil_mode", false).at(cx)?;
        let count_include_pad = match kind {
            PoolKind::Avg => cx.attrs.flag("count_include_pad", false).at(cx)?,
            PoolKind::Max => {
                // Only changes the Indices output, which is refused above.
                cx.attrs.ignore(&["storage_order"]);
                false
            }
        };
        let op = Op::Pool2d(Pool2d {
            kind,
            kernel: win.kernel,
            stride: win.stride,
            dilation: win.dilation,
            padding: win.padding,
            ceil_mode,
            count_include_pad,
        });
        self.nhwc_wrap(cx, x, s, op, vec![])
    }

    /// `GlobalAveragePool` and `GlobalMaxPool`: the NHWC global pool for 4-D data, a
    /// reduction over the spatial axes otherwise.
    pub(super) fn global_pool(&mut self, cx: &NodeCx<'_>, kind: PoolKind) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let rank = self.require_rank(cx, x, "global pooling")?;
        match rank {
            4 => self.nhwc_wrap(cx, x, 2, Op::GlobalPool(kind), vec![]),
            r if r >= 3 => {
                let kind = match kind {
                    PoolKind::Avg => ReduceKind::Mean,
                    PoolKind::Max => ReduceKind::Max,
                };
                let axes = (2..r as i64).collect();
                let d = self.dtype(x);
                self.finish(cx, Op::Reduce(Reduce { kind, axes, keep_dims: true }), vec![Some(x)], d)
            }
            r => Err(cx.invalid(format!("input of rank {r} has no spatial dims"))),
        }
    }

    /// `BatchNormalization` (inference form).
    pub(super) fn batch_norm(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        if cx.attrs.int_or("training_mode", 0).at(cx)? != 0 {
            return Err(cx.unsupported("training_mode=1 (Ferrolite runs inference only)"));
        }
        cx.only_outputs(1, "running statistics, training only")?;
        if self.opset < 9 && !cx.attrs.flag("spatial", true).at(cx)? {
            return Err(cx.unsupported("spatial=0 (per-activation statistics)"));
        }
        // `is_test` (opset 6) only mattered for the training outputs refused above;
        // `momentum` only for training.
        cx.attrs.ignore(&["momentum", "is_test"]);
        let epsilon = cx.attrs.float_or("epsilon", 1e-5).at(cx)?;
        let inputs = (0..5).map(|i| self.req_input(cx, i).map(Some)).collect::<Result<Vec<_>>>()?;
        let d = inputs[0].map_or(ferrolite_runtime::ir::DType::F32, |x| self.dtype(x));
        self.finish(cx, Op::BatchNorm(BatchNorm { epsilon, axis: 1 }), inputs, d)
    }

    /// `Gemm`.
    pub(super) fn gemm(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let a = self.req_input(cx, 0)?;
        let b = self.req_input(cx, 1)?;
        let c = self.input(cx, 2)?;
        if self.opset < 7 {
            // Opset 6 `broadcast` only allowed a broadcastable C, which is always accepted.
            cx.attrs.ignore(&["broadcast"]);
        }
        let op = Op::Gemm(Gemm {
            alpha: cx.attrs.float_or("alpha", 1.0).at(cx)?,
            beta: cx.attrs.float_or("beta", 1.0).at(cx)?,
            trans_a: cx.attrs.flag("transA", false).at(cx)?,
            trans_b: cx.attrs.flag("transB", false).at(cx)?,
            activation: Default::default(),
        });
        let d = self.dtype(a);
        self.finish(cx, op, vec![Some(a), Some(b), c], d)
    }
}

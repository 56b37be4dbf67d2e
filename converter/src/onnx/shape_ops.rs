//! Data movement, shape computation, constants and resizing.

use ferrolite_runtime::ir::{
    AspectPolicy, ConstData, CoordTransform, DType, NearestMode, Op, Pad, PadMode, Resize, ResizeMode, Split, TensorId,
};

use super::importer::{AttrResultExt, Importer, NodeCx};
use super::tensor::{self, ConstTensor, dtype_from_onnx};
use crate::Result;

impl Importer {
    /// Operators that pass input 0 through a single IR op with the same element type.
    pub(super) fn same_type(&mut self, cx: &NodeCx<'_>, op: Op, num_inputs: usize) -> Result<()> {
        cx.only_outputs(1, "")?;
        let inputs = (0..num_inputs).map(|i| self.input(cx, i)).collect::<Result<Vec<_>>>()?;
        let first = inputs.first().copied().flatten().ok_or_else(|| cx.invalid("required input 0 is missing"))?;
        if cx.num_inputs() > num_inputs {
            return Err(cx.invalid(format!("has {} inputs, at most {num_inputs} expected", cx.num_inputs())));
        }
        let d = self.dtype(first);
        self.finish(cx, op, inputs, d)
    }

    /// `Concat`.
    pub(super) fn concat(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let axis = cx.attrs.int("axis").at(cx)?.ok_or_else(|| cx.invalid("`axis` is required"))?;
        let inputs = (0..cx.node.input.len()).map(|i| self.req_input(cx, i).map(Some)).collect::<Result<Vec<_>>>()?;
        let d = inputs.first().copied().flatten().map(|t| self.dtype(t)).ok_or_else(|| cx.invalid("no inputs"))?;
        self.finish(cx, Op::Concat { axis }, inputs, d)
    }

    /// `Split`: sizes from the `split` attribute (opset < 13) or input (13+), or equal parts
    /// (`num_outputs`, 18+, or by default).
    pub(super) fn split(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        let x = self.req_input(cx, 0)?;
        let axis = cx.attrs.int_or("axis", 0).at(cx)?;
        let outputs = cx.node.output.len();
        if outputs == 0 {
            return Err(cx.invalid("has no outputs"));
        }
        let sizes = if self.opset >= 13 { self.const_ints_input(cx, 1, "split")? } else { cx.attrs.ints("split").at(cx)?.map(<[i64]>::to_vec) };
        if self.opset >= 18
            && let Some(n) = cx.attrs.int("num_outputs").at(cx)?
            && usize::try_from(n).ok() != Some(outputs)
        {
            return Err(cx.invalid(format!("`num_outputs` is {n} but the node has {outputs} outputs")));
        }
        let sizes = match sizes {
            None => None,
            Some(s) => {
                if s.len() != outputs {
                    return Err(cx.invalid(format!("`split` {s:?} gives {} sizes for {outputs} outputs", s.len())));
                }
                Some(
                    s.iter()
                        .map(|&v| usize::try_from(v).map_err(|_| cx.invalid(format!("negative split size in {s:?}"))))
                        .collect::<Result<Vec<_>>>()?,
                )
            }
        };
        let d = self.dtype(x);
        self.finish_multi(cx, Op::Split(Split { axis, sizes }), vec![Some(x)], d)
    }

    /// `Slice`: `starts`/`ends`/`axes` attributes before opset 10, inputs after.
    pub(super) fn slice(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        if self.opset >= 10 {
            return self.same_type(cx, Op::Slice, 5);
        }
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let starts = cx.attrs.ints("starts").at(cx)?.ok_or_else(|| cx.invalid("`starts` is required"))?;
        let ends = cx.attrs.ints("ends").at(cx)?.ok_or_else(|| cx.invalid("`ends` is required"))?;
        if starts.len() != ends.len() {
            return Err(cx.invalid("`starts` and `ends` differ in length"));
        }
        let n = starts.len();
        let base = cx.label.clone();
        let starts = self.const_i64(&format!("{base}/starts"), &[n], starts);
        let ends = self.const_i64(&format!("{base}/ends"), &[n], ends);
        let axes = match cx.attrs.ints("axes").at(cx)? {
            Some(a) if a.len() != n => return Err(cx.invalid("`axes` and `starts` differ in length")),
            Some(a) => Some(self.const_i64(&format!("{base}/axes"), &[n], a)),
            None => None,
        };
        let d = self.dtype(x);
        self.finish(cx, Op::Slice, vec![Some(x), Some(starts), Some(ends), axes], d)
    }

    /// `Reshape`.
    pub(super) fn reshape(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        let allow_zero = cx.attrs.flag("allowzero", false).at(cx)?;
        if self.req_input(cx, 1).is_err() {
            return Err(cx.invalid("the target shape (input 1) is required"));
        }
        self.same_type(cx, Op::Reshape { allow_zero }, 2)
    }

    /// `Transpose`; without `perm`, the axes are reversed.
    pub(super) fn transpose_op(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        let x = self.req_input(cx, 0)?;
        let perm: Vec<usize> = match cx.attrs.ints("perm").at(cx)? {
            Some(p) => {
                let rank = p.len();
                let perm: Option<Vec<usize>> = p.iter().map(|&v| usize::try_from(v).ok().filter(|&v| v < rank)).collect();
                let perm = perm.ok_or_else(|| cx.invalid(format!("`perm` {p:?} is not a permutation")))?;
                let mut seen = vec![false; rank];
                for &a in &perm {
                    if std::mem::replace(&mut seen[a], true) {
                        return Err(cx.invalid(format!("`perm` {p:?} repeats axis {a}")));
                    }
                }
                perm
            }
            None => {
                let rank = self.require_rank(cx, x, "Transpose without `perm`")?;
                (0..rank).rev().collect()
            }
        };
        self.same_type(cx, Op::Transpose { perm }, 1)
    }

    /// `Squeeze` (axes optional) and `Unsqueeze` (axes required): an attribute before opset
    /// 13, a constant input after.
    pub(super) fn squeeze(&mut self, cx: &NodeCx<'_>, unsqueeze: bool) -> Result<()> {
        let axes = if self.opset >= 13 {
            self.const_ints_input(cx, 1, "axes")?
        } else {
            cx.attrs.ints("axes").at(cx)?.map(<[i64]>::to_vec)
        };
        let op = if unsqueeze {
            Op::Unsqueeze { axes: axes.ok_or_else(|| cx.invalid("`axes` is required"))? }
        } else {
            Op::Squeeze { axes: axes.unwrap_or_default() }
        };
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let d = self.dtype(x);
        self.finish(cx, op, vec![Some(x)], d)
    }

    /// `Pad`: `pads`/`value` attributes before opset 11; `pads`, `constant_value` and (18+)
    /// `axes` as constant inputs after. The IR wants begin/end amounts for every axis.
    pub(super) fn pad(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let mode = match cx.attrs.string_or("mode", "constant").at(cx)? {
            "constant" => PadMode::Constant,
            "reflect" => PadMode::Reflect,
            "edge" => PadMode::Edge,
            "wrap" => PadMode::Wrap,
            other => return Err(cx.unsupported(format!("mode \"{other}\""))),
        };
        let (pads, value, axes) = if self.opset < 11 {
            let pads = cx.attrs.ints("pads").at(cx)?.ok_or_else(|| cx.invalid("`pads` is required"))?.to_vec();
            (pads, cx.attrs.float_or("value", 0.0).at(cx)?, None)
        } else {
            let pads = self.const_ints_input(cx, 1, "pads")?.ok_or_else(|| cx.invalid("`pads` (input 1) is required"))?;
            let value = match self.input(cx, 2)? {
                None => 0.0,
                Some(t) => match self.const_f64s(t).as_deref() {
                    Some(&[v]) => v as f32,
                    // An empty tensor means "not given".
                    Some(&[]) => 0.0,
                    Some(_) => return Err(cx.invalid("`constant_value` must be a scalar")),
                    None => return Err(cx.unsupported("`constant_value` must be a constant, it is computed at run time")),
                },
            };
            let axes = if self.opset >= 18 { self.const_ints_input(cx, 3, "axes")? } else { None };
            (pads, value, axes)
        };
        let pads = match axes {
            None => {
                if pads.len() % 2 != 0 {
                    return Err(cx.invalid(format!("`pads` {pads:?} has an odd number of values")));
                }
                if let Some(r) = self.rank(x)
                    && pads.len() != 2 * r
                {
                    return Err(cx.invalid(format!("`pads` {pads:?} does not have 2 values per axis of a rank-{r} input")));
                }
                pads
            }
            Some(axes) => {
                let rank = self.require_rank(cx, x, "Pad with `axes`")?;
                if pads.len() != 2 * axes.len() {
                    return Err(cx.invalid(format!("`pads` {pads:?} does not have 2 values per axis of {axes:?}")));
                }
                let mut full = vec![0i64; 2 * rank];
                for (i, &a) in axes.iter().enumerate() {
                    let a = ferrolite_runtime::ops::util::normalize_axis(a, rank).map_err(|e| cx.invalid(e))?;
                    full[a] = pads[i];
                    full[a + rank] = pads[i + axes.len()];
                }
                full
            }
        };
        let d = self.dtype(x);
        self.finish(cx, Op::Pad(Pad { mode, pads, value }), vec![Some(x)], d)
    }

    /// `Resize` (opset 10 to 19 forms) and `Upsample`, onto the opset-19 semantics of the
    /// IR's `Resize`.
    pub(super) fn resize(&mut self, cx: &NodeCx<'_>, upsample: bool) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let mode = match cx.attrs.string_or("mode", "nearest").at(cx)? {
            "nearest" => ResizeMode::Nearest,
            "linear" => ResizeMode::Linear,
            // The name Upsample-1 used.
            "bilinear" if upsample => ResizeMode::Linear,
            "cubic" if !upsample => ResizeMode::Cubic,
            other => return Err(cx.unsupported(format!("mode \"{other}\""))),
        };
        let mut attrs = Resize {
            mode,
            coord: CoordTransform::Asymmetric,
            nearest: NearestMode::Floor,
            axes: None,
            aspect: AspectPolicy::Stretch,
            extrapolation_value: 0.0,
            antialias: false,
            cubic_coeff_a: -0.75,
            exclude_outside: false,
        };
        // Upsample and Resize-10 scale with the asymmetric transform and floor rounding
        // (`out[i] = in[floor(i / scale)]` for nearest).
        if upsample || self.opset < 11 {
            let scales = if upsample && self.opset < 9 {
                let s = cx.attrs.floats("scales").at(cx)?.ok_or_else(|| cx.invalid("`scales` is required"))?;
                let n = s.len();
                self.const_f32(&format!("{}/scales", cx.label), &[n], s)
            } else {
                self.req_input(cx, 1)?
            };
            let d = self.dtype(x);
            return self.finish(cx, Op::Resize(attrs), vec![Some(x), None, Some(scales), None], d);
        }
        attrs.coord = match cx.attrs.string_or("coordinate_transformation_mode", "half_pixel").at(cx)? {
            "half_pixel" => CoordTransform::HalfPixel,
            "half_pixel_symmetric" => CoordTransform::HalfPixelSymmetric,
            "pytorch_half_pixel" => CoordTransform::PytorchHalfPixel,
            "align_corners" => CoordTransform::AlignCorners,
            "asymmetric" => CoordTransform::Asymmetric,
            "tf_crop_and_resize" => CoordTransform::TfCropAndResize,
            other => return Err(cx.unsupported(format!("coordinate_transformation_mode \"{other}\""))),
        };
        attrs.nearest = match cx.attrs.string_or("nearest_mode", "round_prefer_floor").at(cx)? {
            "round_prefer_floor" => NearestMode::RoundPreferFloor,
            "round_prefer_ceil" => NearestMode::RoundPreferCeil,
            "floor" => NearestMode::Floor,
            "ceil" => NearestMode::Ceil,
            other => return Err(cx.unsupported(format!("nearest_mode \"{other}\""))),
        };
        attrs.cubic_coeff_a = cx.attrs.float_or("cubic_coeff_a", -0.75).at(cx)?;
        attrs.exclude_outside = cx.attrs.flag("exclude_outside", false).at(cx)?;
        attrs.extrapolation_value = cx.attrs.float_or("extrapolation_value", 0.0).at(cx)?;
        if self.opset >= 18 {
            attrs.antialias = cx.attrs.flag("antialias", false).at(cx)?;
            attrs.axes = cx.attrs.ints("axes").at(cx)?.map(<[i64]>::to_vec);
            attrs.aspect = match cx.attrs.string_or("keep_aspect_ratio_policy", "stretch").at(cx)? {
                "stretch" => AspectPolicy::Stretch,
                "not_larger" => AspectPolicy::NotLarger,
                "not_smaller" => AspectPolicy::NotSmaller,
                other => return Err(cx.unsupported(format!("keep_aspect_ratio_policy \"{other}\""))),
            };
        }
        // Opset 11 requires a `scales` input even when `sizes` is used; an empty constant
        // then stands for "not given". The same holds for `roi`.
        let given = |imp: &mut Self, i: usize| -> Result<Option<TensorId>> {
            Ok(imp.input(cx, i)?.filter(|&t| imp.const_len(t) != Some(0)))
        };
        let roi = given(self, 1)?;
        let scales = given(self, 2)?;
        let sizes = given(self, 3)?;
        if scales.is_some() == sizes.is_some() {
            return Err(cx.invalid("exactly one of `scales` and `sizes` must be given"));
        }
        if let Some(s) = scales
            && self.dtype(s) != DType::F32
        {
            return Err(cx.invalid(format!("`scales` must be float, got {}", self.dtype(s))));
        }
        // The region of interest only matters for tf_crop_and_resize.
        let roi = if attrs.coord == CoordTransform::TfCropAndResize {
            Some(roi.ok_or_else(|| cx.invalid("tf_crop_and_resize needs `roi`"))?)
        } else {
            None
        };
        let d = self.dtype(x);
        self.finish(cx, Op::Resize(attrs), vec![Some(x), roi, scales, sizes], d)
    }

    /// `Gather`.
    pub(super) fn gather(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        let axis = cx.attrs.int_or("axis", 0).at(cx)?;
        if self.req_input(cx, 1).is_err() {
            return Err(cx.invalid("`indices` (input 1) is required"));
        }
        self.same_type(cx, Op::Gather { axis }, 2)
    }

    /// `Cast`.
    pub(super) fn cast(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let to = cx.attrs.int("to").at(cx)?.ok_or_else(|| cx.invalid("`to` is required"))?;
        let to32 = i32::try_from(to).unwrap_or(-1);
        let dtype = dtype_from_onnx(to32)
            .filter(|&d| d != DType::F16)
            .ok_or_else(|| cx.unsupported(format!("cast to {}", super::proto::data_type::name(to32))))?;
        // Only affect casts to 8-bit floats, which are refused above.
        cx.attrs.ignore(&["saturate", "round_mode"]);
        self.finish(cx, Op::Cast { to: dtype }, vec![Some(x)], dtype)
    }

    /// `CastLike`: a cast to the element type of input 1.
    pub(super) fn cast_like(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let to = self.dtype(self.req_input(cx, 1)?);
        cx.attrs.ignore(&["saturate", "round_mode"]);
        self.finish(cx, Op::Cast { to }, vec![Some(x)], to)
    }

    /// `Dropout`: the identity at inference (its optional mask output all ones).
    pub(super) fn dropout(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(2, "")?;
        cx.attrs.ignore(&["ratio", "seed", "is_test"]);
        if self.opset >= 12
            && let Some(t) = self.input(cx, 2)?
        {
            match self.const_f64s(t).as_deref() {
                Some(&[0.0]) => {}
                Some(_) => {
                    // Training mode with a ratio of exactly 0 (an omitted ratio is 0.5) drops
                    // nothing: the inference result.
                    let ratio = match self.input(cx, 1)? {
                        Some(r) => self.const_f64s(r),
                        None => None,
                    };
                    if !matches!(ratio.as_deref(), Some(&[0.0])) {
                        return Err(cx.unsupported("training_mode=true with a nonzero ratio (Ferrolite runs inference only)"));
                    }
                }
                None => return Err(cx.unsupported("`training_mode` computed at run time")),
            }
        }
        let x = self.req_input(cx, 0)?;
        let d = self.dtype(x);
        if cx.output_name(1).is_some() {
            // At inference nothing is dropped: the mask is all ones, bool since opset 10 and
            // of the input's type before.
            let mask_dtype = if self.opset >= 10 { DType::Bool } else { d };
            let shape = self.apply(cx, "mask_shape", Op::Shape { start: 0, end: None }, vec![Some(x)], DType::I64);
            self.finish_output(cx, 1, Op::ConstantOfShape { dtype: mask_dtype, value: 1.0 }, vec![Some(shape)], mask_dtype)?;
        }
        self.finish(cx, Op::Identity, vec![Some(x)], d)
    }

    /// `Constant`: a constant bound to the output's name, no node.
    pub(super) fn constant(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        if cx.num_inputs() != 0 {
            return Err(cx.invalid("takes no inputs"));
        }
        let what = format!("Constant node \"{}\"", cx.label);
        let a = &cx.attrs;
        let mut values = Vec::new();
        if let Some(t) = a.tensor("value").at(cx)? {
            values.push(tensor::decode(t, &what)?);
        }
        if let Some(v) = a.float("value_float").at(cx)? {
            values.push(ConstTensor { dtype: DType::F32, shape: vec![], data: ConstData::from_f32(&[v]) });
        }
        if let Some(v) = a.floats("value_floats").at(cx)? {
            values.push(ConstTensor { dtype: DType::F32, shape: vec![v.len()], data: ConstData::from_f32(v) });
        }
        if let Some(v) = a.int("value_int").at(cx)? {
            values.push(ConstTensor { dtype: DType::I64, shape: vec![], data: ConstData::from_i64(&[v]) });
        }
        if let Some(v) = a.ints("value_ints").at(cx)? {
            values.push(ConstTensor { dtype: DType::I64, shape: vec![v.len()], data: ConstData::from_i64(v) });
        }
        for unsupported in ["value_string", "value_strings", "sparse_value"] {
            if a.has(unsupported) {
                return Err(cx.unsupported(format!("`{unsupported}`")));
            }
        }
        match values.len() {
            1 => self.finish_const(cx, values.remove(0)),
            0 => Err(cx.invalid("has no value attribute")),
            _ => Err(cx.invalid("has more than one value attribute")),
        }
    }

    /// `Shape` (with `start`/`end` from opset 15).
    pub(super) fn shape_op(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let start = cx.attrs.int_or("start", 0).at(cx)?;
        let end = cx.attrs.int("end").at(cx)?;
        self.finish(cx, Op::Shape { start, end }, vec![Some(x)], DType::I64)
    }

    /// `ConstantOfShape`.
    pub(super) fn constant_of_shape(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let shape = self.req_input(cx, 0)?;
        let (dtype, value) = match cx.attrs.tensor("value").at(cx)? {
            None => (DType::F32, 0.0),
            Some(t) => {
                let c = tensor::decode(t, &format!("ConstantOfShape node \"{}\" value", cx.label))?;
                match *super::importer::bytes_to_f64(c.dtype, c.data.bytes()).as_slice() {
                    [v] if c.dtype != DType::F16 => (c.dtype, v),
                    [_] => return Err(cx.unsupported("a float16 fill value (f16 activations)")),
                    _ => return Err(cx.invalid("`value` must hold exactly one element")),
                }
            }
        };
        self.finish(cx, Op::ConstantOfShape { dtype, value }, vec![Some(shape)], dtype)
    }

    /// `Where`.
    pub(super) fn where_op(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let inputs = (0..3).map(|i| self.req_input(cx, i).map(Some)).collect::<Result<Vec<_>>>()?;
        let d = inputs[1].map_or(DType::F32, |t| self.dtype(t));
        self.finish(cx, Op::Where, inputs, d)
    }
}

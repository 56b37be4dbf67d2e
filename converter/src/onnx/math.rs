//! Element-wise operators, activations, softmax and reductions.

use ferrolite_runtime::ir::{Activation, Binary, DType, Op, Reduce, ReduceKind, TensorId, Unary};

use super::importer::{AttrResultExt, Importer, NodeCx};
use crate::Result;

impl Importer {
    /// A one-input element-wise operator.
    pub(super) fn unary(&mut self, cx: &NodeCx<'_>, op: Unary) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let d = if op == Unary::Not { DType::Bool } else { self.dtype(x) };
        self.finish(cx, Op::Unary(op), vec![Some(x)], d)
    }

    /// An activation with attributes read by the caller.
    pub(super) fn activation(&mut self, cx: &NodeCx<'_>, act: Activation) -> Result<()> {
        self.unary(cx, Unary::Act(act))
    }

    /// Operands of a two-input operator, applying the legacy (opset < 7) `broadcast` /
    /// `axis` attributes: with an explicit axis, `b`'s dims line up with `a`'s from `axis`
    /// on, which numpy rules express by appending size-1 axes to `b`.
    fn binary_operands(&mut self, cx: &NodeCx<'_>) -> Result<(TensorId, TensorId)> {
        let a = self.req_input(cx, 0)?;
        let mut b = self.req_input(cx, 1)?;
        if self.opset < 7 {
            let broadcast = cx.attrs.flag("broadcast", false).at(cx)?;
            if let Some(axis) = cx.attrs.int("axis").at(cx)?
                && broadcast
            {
                let ra = self.require_rank(cx, a, "legacy broadcasting with `axis`")?;
                let rb = self.require_rank(cx, b, "legacy broadcasting with `axis`")?;
                let axis = if axis < 0 { axis + ra as i64 } else { axis };
                let trailing = (ra as i64) - axis - (rb as i64);
                if axis < 0 || trailing < 0 {
                    return Err(cx.invalid(format!("`axis` does not place a rank-{rb} operand in a rank-{ra} one")));
                }
                if trailing > 0 {
                    let axes = (rb as i64..rb as i64 + trailing).collect();
                    let d = self.dtype(b);
                    b = self.apply(cx, "legacy_broadcast", Op::Unsqueeze { axes }, vec![Some(b)], d);
                }
            }
        }
        Ok((a, b))
    }

    /// A two-input element-wise operator.
    pub(super) fn binary(&mut self, cx: &NodeCx<'_>, op: Binary) -> Result<()> {
        cx.only_outputs(1, "")?;
        let (a, mut b) = self.binary_operands(cx)?;
        let (da, db) = (self.dtype(a), self.dtype(b));
        if op == Binary::Pow && da != db {
            // Pow allows an exponent of another type; the IR computes in the base's type.
            b = self.apply(cx, "exponent", Op::Cast { to: da }, vec![Some(b)], da);
        }
        let out = match op {
            Binary::Equal | Binary::Less | Binary::Greater | Binary::And | Binary::Or => DType::Bool,
            _ => da,
        };
        self.finish(cx, Op::Binary(op), vec![Some(a), Some(b)], out)
    }

    /// `LessOrEqual` / `GreaterOrEqual` as the negation of the strict opposite.
    pub(super) fn not_binary(&mut self, cx: &NodeCx<'_>, opposite: Binary) -> Result<()> {
        cx.only_outputs(1, "")?;
        let (a, b) = self.binary_operands(cx)?;
        let t = self.apply(cx, "opposite", Op::Binary(opposite), vec![Some(a), Some(b)], DType::Bool);
        self.finish(cx, Op::Unary(Unary::Not), vec![Some(t)], DType::Bool)
    }

    /// `Max`, `Min`, `Sum` (variadic): a chain of binary operators. `Mean` divides the sum.
    pub(super) fn variadic(&mut self, cx: &NodeCx<'_>, op: Binary, mean: bool) -> Result<()> {
        cx.only_outputs(1, "")?;
        let n = cx.node.input.len();
        let inputs = (0..n).map(|i| self.req_input(cx, i)).collect::<Result<Vec<_>>>()?;
        let Some((&first, rest)) = inputs.split_first() else {
            return Err(cx.invalid("needs at least one input"));
        };
        let d = self.dtype(first);
        if rest.is_empty() {
            return self.finish(cx, Op::Identity, vec![Some(first)], d);
        }
        let mut acc = first;
        for (i, &t) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            if last && !mean {
                return self.finish(cx, Op::Binary(op), vec![Some(acc), Some(t)], d);
            }
            acc = self.apply(cx, "acc", Op::Binary(op), vec![Some(acc), Some(t)], d);
        }
        if d != DType::F32 {
            return Err(cx.unsupported(format!("Mean of {d} tensors")));
        }
        let count = self.const_f32(&format!("{}/count", cx.label), &[], &[n as f32]);
        self.finish(cx, Op::Binary(Binary::Div), vec![Some(acc), Some(count)], d)
    }

    /// `PRelu`. Before opset 7 a 1-D slope was per channel (axis 1); it is reshaped to
    /// `[C, 1, ...]` so numpy broadcasting gives the same result.
    pub(super) fn prelu(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let mut slope = self.req_input(cx, 1)?;
        if self.opset < 7 && self.rank(slope) == Some(1) && self.fixed_shape(slope).is_none_or(|s| s != [1]) {
            let rank = self.require_rank(cx, x, "per-channel PRelu (opset < 7)")?;
            if rank > 2 {
                let axes = (1..rank as i64 - 1).collect();
                let d = self.dtype(slope);
                slope = self.apply(cx, "per_channel", Op::Unsqueeze { axes }, vec![Some(slope)], d);
            }
        }
        let d = self.dtype(x);
        self.finish(cx, Op::Binary(Binary::PRelu), vec![Some(x), Some(slope)], d)
    }

    /// `Clip`: a fused-activation form when the bounds are constant f32 values (Relu,
    /// Relu6, Clip), a `Max`/`Min` pair otherwise.
    pub(super) fn clip(&mut self, cx: &NodeCx<'_>) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let d = self.dtype(x);
        let (lo, hi) = if self.opset < 11 {
            let attr = |name| cx.attrs.float(name).at(cx).map(|v| v.map_or(Bound::Absent, |v| Bound::Value(v as f64)));
            (attr("min")?, attr("max")?)
        } else {
            (self.clip_bound(cx, 1)?, self.clip_bound(cx, 2)?)
        };
        if d == DType::F32 {
            let value = |b: &Bound, absent: f32| match *b {
                Bound::Absent => Some(absent),
                Bound::Value(v) => Some(v as f32),
                Bound::Tensor(_) => None,
            };
            if let (Some(min), Some(max)) = (value(&lo, f32::NEG_INFINITY), value(&hi, f32::INFINITY)) {
                let op = match (min, max) {
                    (f32::NEG_INFINITY, f32::INFINITY) => Op::Identity,
                    (0.0, f32::INFINITY) => Op::Unary(Unary::Act(Activation::Relu)),
                    (0.0, 6.0) => Op::Unary(Unary::Act(Activation::Relu6)),
                    (min, max) => Op::Unary(Unary::Act(Activation::Clip { min, max })),
                };
                return self.finish(cx, op, vec![Some(x)], d);
            }
        }
        // Integer data or run-time bounds: max(x, lo) then min(., hi).
        let mut tensor = |b: Bound, what: &str| -> Result<Option<TensorId>> {
            match b {
                Bound::Absent => Ok(None),
                Bound::Tensor(t) => Ok(Some(t)),
                Bound::Value(v) => scalar_const(self, cx, what, d, v).map(Some),
            }
        };
        match (tensor(lo, "min")?, tensor(hi, "max")?) {
            (None, None) => self.finish(cx, Op::Identity, vec![Some(x)], d),
            (Some(lo), None) => self.finish(cx, Op::Binary(Binary::Max), vec![Some(x), Some(lo)], d),
            (None, Some(hi)) => self.finish(cx, Op::Binary(Binary::Min), vec![Some(x), Some(hi)], d),
            (Some(lo), Some(hi)) => {
                let t = self.apply(cx, "at_least_min", Op::Binary(Binary::Max), vec![Some(x), Some(lo)], d);
                self.finish(cx, Op::Binary(Binary::Min), vec![Some(t), Some(hi)], d)
            }
        }
    }

    /// A `Clip` bound given as input `i` (opset 11+).
    fn clip_bound(&mut self, cx: &NodeCx<'_>, i: usize) -> Result<Bound> {
        let Some(t) = self.input(cx, i)? else { return Ok(Bound::Absent) };
        match self.const_f64s(t).as_deref() {
            Some(&[v]) => Ok(Bound::Value(v)),
            Some(_) => Err(cx.invalid(format!("bound (input {i}) must be a scalar"))),
            None => Ok(Bound::Tensor(t)),
        }
    }

    /// `Softmax` / `LogSoftmax`. From opset 13 the operator works along one axis; before,
    /// it flattened the input to 2-D at `axis` and worked along the second dim, which is
    /// expressed as `Flatten`, the operator along the last axis, and a `Reshape` back.
    pub(super) fn softmax(&mut self, cx: &NodeCx<'_>, log: bool) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let d = self.dtype(x);
        let make = |axis: i64| if log { Op::LogSoftmax { axis } } else { Op::Softmax { axis } };
        if self.opset >= 13 {
            let axis = cx.attrs.int_or("axis", -1).at(cx)?;
            return self.finish(cx, make(axis), vec![Some(x)], d);
        }
        let axis = cx.attrs.int_or("axis", 1).at(cx)?;
        let is_last = axis == -1 || self.rank(x).is_some_and(|r| axis == r as i64 - 1);
        if is_last {
            return self.finish(cx, make(-1), vec![Some(x)], d);
        }
        let shape = self.apply(cx, "shape", Op::Shape { start: 0, end: None }, vec![Some(x)], DType::I64);
        let flat = self.apply(cx, "as_2d", Op::Flatten { axis }, vec![Some(x)], d);
        let y = self.apply(cx, "2d", make(-1), vec![Some(flat)], d);
        self.finish(cx, Op::Reshape { allow_zero: true }, vec![Some(y), Some(shape)], d)
    }

    /// `ReduceMean`, `ReduceMax`, `ReduceMin`, `ReduceSum`, `ReduceProd`.
    pub(super) fn reduce(&mut self, cx: &NodeCx<'_>, kind: ReduceKind) -> Result<()> {
        cx.only_outputs(1, "")?;
        let x = self.req_input(cx, 0)?;
        let d = self.dtype(x);
        // The opset in which `axes` moved from an attribute to an input.
        let axes_input_since = if kind == ReduceKind::Sum { 13 } else { 18 };
        let keep_dims = cx.attrs.flag("keepdims", true).at(cx)?;
        let (axes, noop_if_empty) = if self.opset >= axes_input_since {
            let axes = self.const_ints_input(cx, 1, "axes")?.unwrap_or_default();
            (axes, cx.attrs.flag("noop_with_empty_axes", false).at(cx)?)
        } else {
            (cx.attrs.ints("axes").at(cx)?.map(<[i64]>::to_vec).unwrap_or_default(), false)
        };
        if axes.is_empty() && noop_if_empty {
            return self.finish(cx, Op::Identity, vec![Some(x)], d);
        }
        self.finish(cx, Op::Reduce(Reduce { kind, axes, keep_dims }), vec![Some(x)], d)
    }
}

/// One bound of `Clip`.
enum Bound {
    /// Not given (unbounded).
    Absent,
    /// Known at import.
    Value(f64),
    /// Computed at run time.
    Tensor(TensorId),
}

/// A scalar constant of type `dtype` holding `value`.
pub(super) fn scalar_const(imp: &mut Importer, cx: &NodeCx<'_>, what: &str, dtype: DType, value: f64) -> Result<TensorId> {
    use ferrolite_runtime::ir::ConstData;
    let data = match dtype {
        DType::F32 => ConstData::from_f32(&[value as f32]),
        DType::I64 => ConstData::from_i64(&[value as i64]),
        DType::I32 => ConstData::from_i32(&[value as i32]),
        DType::I8 => ConstData::from_bytes(&[(value as i8) as u8]),
        DType::U8 => ConstData::from_bytes(&[value as u8]),
        DType::F16 | DType::Bool => return Err(cx.unsupported(format!("a {what} bound for {dtype} data"))),
    };
    Ok(imp.new_const(&format!("{}/{what}", cx.label), dtype, &[], data))
}

//! Resolution of TFLite's `STRIDED_SLICE` (TensorFlow's strided slice with its five bit
//! masks) into the IR's ONNX-style `Slice`, followed by `Squeeze` for the shrunk axes and
//! `Unsqueeze` for the new ones.
//!
//! The masks are resolved against the input *rank* only, not its dimensions: a masked
//! bound becomes an out-of-range value that the `Slice` clamping turns into the start or
//! end of the axis (`0` / `i64::MAX` going forward, `i64::MAX` / `-i64::MAX` going backward),
//! exactly as TensorFlow clamps masked bounds. So the slice stays correct for dynamic
//! dimensions.

/// A strided slice as TFLite states it: one entry per *spec* dimension (ellipsis and new
/// axes included), and bit `i` of each mask refers to entry `i`.
#[derive(Debug, Clone, Default)]
pub(super) struct StridedSlice {
    pub begin: Vec<i64>,
    pub end: Vec<i64>,
    pub strides: Vec<i64>,
    pub begin_mask: i32,
    pub end_mask: i32,
    pub ellipsis_mask: i32,
    pub new_axis_mask: i32,
    pub shrink_axis_mask: i32,
    /// `end` is an offset from `begin` (TFLite's `offset` option).
    pub offset: bool,
}

/// The IR form: `Slice(x, starts, ends, axes, steps)` over the listed input axes, then
/// `Squeeze(squeeze)` (input axis numbers, which the slice keeps), then
/// `Unsqueeze(unsqueeze)` (positions in the final output).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SlicePlan {
    pub axes: Vec<i64>,
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
    pub steps: Vec<i64>,
    pub squeeze: Vec<i64>,
    pub unsqueeze: Vec<i64>,
}

/// Past the last element, in either direction, after `Slice`'s clamping.
const FORWARD_END: i64 = i64::MAX;
const BACKWARD_END: i64 = -i64::MAX;

fn bit(mask: i32, i: usize) -> bool {
    i < 32 && (mask >> i) & 1 == 1
}

/// Resolves `spec` for an input of rank `rank`.
pub(super) fn resolve(spec: &StridedSlice, rank: usize) -> Result<SlicePlan, String> {
    let n = spec.begin.len();
    if spec.end.len() != n || spec.strides.len() != n {
        return Err(format!(
            "begin, end and strides have {}, {} and {} entries; they must be equal",
            n,
            spec.end.len(),
            spec.strides.len()
        ));
    }
    let ellipses = (0..n).filter(|&i| bit(spec.ellipsis_mask, i)).count();
    if ellipses > 1 {
        return Err("more than one ellipsis in the slice".into());
    }
    // Entries that consume an input axis: everything but the ellipsis and new axes.
    let consuming = (0..n).filter(|&i| !bit(spec.ellipsis_mask, i) && !bit(spec.new_axis_mask, i)).count();
    if consuming > rank {
        return Err(format!("the slice has {consuming} entries for an input of rank {rank}"));
    }
    // Without an explicit ellipsis, the axes not named are kept whole at the end.
    let ellipsis_axes = rank - consuming;

    let mut plan = SlicePlan::default();
    let mut in_axis = 0usize;
    let mut out_pos = 0usize;
    for i in 0..n {
        if bit(spec.ellipsis_mask, i) {
            in_axis += ellipsis_axes;
            out_pos += ellipsis_axes;
            continue;
        }
        if bit(spec.new_axis_mask, i) {
            plan.unsqueeze.push(out_pos as i64);
            out_pos += 1;
            continue;
        }
        let stride = spec.strides[i];
        if stride == 0 {
            return Err(format!("stride {i} is zero"));
        }
        let begin = spec.begin[i];
        let end = if spec.offset { begin.saturating_add(spec.end[i]) } else { spec.end[i] };
        let axis = in_axis as i64;
        if bit(spec.shrink_axis_mask, i) {
            // One element at `begin` (masked: the first element in the stride's direction).
            let at = if bit(spec.begin_mask, i) { if stride > 0 { 0 } else { -1 } } else { begin };
            let after = if at == -1 { FORWARD_END } else { at + 1 };
            plan.axes.push(axis);
            plan.starts.push(at);
            plan.ends.push(after);
            plan.steps.push(1);
            plan.squeeze.push(axis);
        } else {
            let start = if bit(spec.begin_mask, i) { if stride > 0 { 0 } else { FORWARD_END } } else { begin };
            let stop = if bit(spec.end_mask, i) { if stride > 0 { FORWARD_END } else { BACKWARD_END } } else { end };
            let whole = stride == 1 && start == 0 && stop == FORWARD_END;
            if !whole {
                plan.axes.push(axis);
                plan.starts.push(start);
                plan.ends.push(stop);
                plan.steps.push(stride);
            }
            out_pos += 1;
        }
        in_axis += 1;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The output shape of a plan under ONNX `Slice` clamping, to compare with the shapes
    /// numpy gives for the same slices (worked out by hand in each test).
    fn output_shape(plan: &SlicePlan, shape: &[usize]) -> Vec<usize> {
        let mut dims: Vec<usize> = shape.to_vec();
        for (k, &axis) in plan.axes.iter().enumerate() {
            let d = shape[axis as usize] as i64;
            let (s, e, st) = (plan.starts[k], plan.ends[k], plan.steps[k]);
            let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let len = if st > 0 {
                let (s, e) = (norm(s).clamp(0, d), norm(e).clamp(0, d));
                if e > s { (e - s + st - 1) / st } else { 0 }
            } else {
                let (s, e) = (norm(s).clamp(-1, d - 1), norm(e).clamp(-1, d - 1));
                if s > e { (s - e + (-st) - 1) / (-st) } else { 0 }
            };
            dims[axis as usize] = len as usize;
        }
        let mut out: Vec<usize> =
            dims.iter().enumerate().filter(|(a, _)| !plan.squeeze.contains(&(*a as i64))).map(|(_, &d)| d).collect();
        for &p in &plan.unsqueeze {
            out.insert(p as usize, 1);
        }
        out
    }

    fn spec(begin: &[i64], end: &[i64], strides: &[i64]) -> StridedSlice {
        StridedSlice { begin: begin.to_vec(), end: end.to_vec(), strides: strides.to_vec(), ..Default::default() }
    }

    #[test]
    fn masks_new_axis_and_shrink() {
        // numpy: x[:, 1:, ::-2, np.newaxis, 1] on a [2, 3, 4, 6] array -> [2, 2, 2, 1]
        let s = StridedSlice {
            begin_mask: 0b00101,
            end_mask: 0b00111,
            new_axis_mask: 0b01000,
            shrink_axis_mask: 0b10000,
            ..spec(&[0, 1, 0, 0, 1], &[0, 0, 0, 0, 2], &[1, 1, -2, 1, 1])
        };
        let plan = resolve(&s, 4).unwrap();
        assert_eq!(plan.axes, vec![1, 2, 3]);
        assert_eq!(plan.starts, vec![1, FORWARD_END, 1]);
        assert_eq!(plan.ends, vec![FORWARD_END, BACKWARD_END, 2]);
        assert_eq!(plan.steps, vec![1, -2, 1]);
        assert_eq!(plan.squeeze, vec![3]);
        assert_eq!(plan.unsqueeze, vec![3]);
        assert_eq!(output_shape(&plan, &[2, 3, 4, 6]), vec![2, 2, 2, 1]);
    }

    #[test]
    fn ellipsis_keeps_leading_axes() {
        // x[..., 1:5:2] on [2, 3, 4, 6] -> [2, 3, 4, 2]
        let s = StridedSlice { ellipsis_mask: 0b01, ..spec(&[0, 1], &[0, 5], &[1, 2]) };
        let plan = resolve(&s, 4).unwrap();
        assert_eq!(plan.axes, vec![3]);
        assert_eq!(output_shape(&plan, &[2, 3, 4, 6]), vec![2, 3, 4, 2]);
    }

    #[test]
    fn negative_shrink_index_reaches_the_end() {
        // x[1, -2:, :, -1] on [2, 3, 4, 6] -> [2, 4]
        let s = StridedSlice {
            begin_mask: 0b0100,
            end_mask: 0b0110,
            shrink_axis_mask: 0b1001,
            ..spec(&[1, -2, 0, -1], &[2, 0, 0, 0], &[1, 1, 1, 1])
        };
        let plan = resolve(&s, 4).unwrap();
        assert_eq!(plan.squeeze, vec![0, 3]);
        let last = plan.axes.iter().position(|&a| a == 3).unwrap();
        assert_eq!((plan.starts[last], plan.ends[last]), (-1, FORWARD_END));
        assert_eq!(output_shape(&plan, &[2, 3, 4, 6]), vec![2, 4]);
    }

    #[test]
    fn offset_end_is_relative_to_begin() {
        let s = StridedSlice { offset: true, ..spec(&[2], &[3], &[1]) };
        let plan = resolve(&s, 1).unwrap();
        assert_eq!((plan.starts[0], plan.ends[0]), (2, 5));
    }

    #[test]
    fn bad_specs_are_errors() {
        assert!(resolve(&spec(&[0], &[1, 2], &[1]), 2).is_err());
        assert!(resolve(&spec(&[0], &[1], &[0]), 2).is_err());
        assert!(resolve(&spec(&[0, 0, 0], &[1, 1, 1], &[1, 1, 1]), 2).is_err());
        let two_ellipses = StridedSlice { ellipsis_mask: 0b11, ..spec(&[0, 0], &[0, 0], &[1, 1]) };
        assert!(resolve(&two_ellipses, 2).is_err());
    }
}

//! Run-time support for the code the `#[algorithm]` macro generates: the buffers a schedule
//! names (`x0`, `y0`, `w`, `ws[a..b]`) and safe, overlap-checked borrowing of them for one
//! launch.

use std::ops::Range;

use smallvec::SmallVec;

use crate::error::{Error, Result};

/// Per node input (few: data, weights, bias, residual; a concatenation has more and spills).
pub type PerInput<T> = SmallVec<[T; 6]>;
/// Per node output.
pub type PerOutput<T> = SmallVec<[T; 2]>;
/// The slices of one launch: its outputs and its inputs, in the order the launch names them.
pub type LaunchViews<'a, const O: usize, const I: usize> = ([&'a mut [f32]; O], [&'a [f32]; I]);

/// A buffer named in a `launch!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buf {
    /// Node input `i` (`x`, `x0`, `x1`, ...).
    Input(usize),
    /// Node output `i` (`y`, `y0`, `y1`, ...).
    Output(usize),
    /// Elements `[start, end)` of node output `i` (`y[a..b]`), for schedules that produce
    /// an output in several launches.
    OutputRange(usize, Range<usize>),
    /// The packed weights (`w`).
    Packed,
    /// Elements `[start, end)` of the workspace (`ws[a..b]`).
    Workspace(Range<usize>),
}

impl Buf {
    fn name(&self) -> String {
        match self {
            Buf::Input(i) => format!("x{i}"),
            Buf::Output(i) => format!("y{i}"),
            Buf::OutputRange(i, r) => format!("y{i}[{}..{}]", r.start, r.end),
            Buf::Packed => "w".into(),
            Buf::Workspace(r) => format!("ws[{}..{}]", r.start, r.end),
        }
    }
}

/// The lengths of the buffers of one kernel call: what checking a launch needs, whether the
/// buffers are host slices (the CPU variants) or device buffers (the OpenCL variants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferLens {
    /// Per node input, its length in f32 elements (`None` when absent or not f32).
    pub inputs: PerInput<Option<usize>>,
    /// Per node output, its length in f32 elements.
    pub outputs: PerOutput<usize>,
    /// Workspace length in f32 elements.
    pub workspace: usize,
}

impl BufferLens {
    /// Checks one launch: every output is writable, exists and lies inside its buffer, no
    /// output is named twice or overlaps another output or an input, every input exists
    /// and lies inside its buffer. The error names the buffer.
    pub fn check(&self, outs: &[Buf], ins: &[Buf]) -> Result<()> {
        let bad = |msg: String| Error::Graph(format!("kernel schedule: {msg}"));
        // Outputs may be node outputs or workspace ranges; inputs anything.
        for (i, o) in outs.iter().enumerate() {
            match o {
                Buf::Output(k) if *k >= self.outputs.len() => return Err(bad(format!("no output y{k}"))),
                Buf::OutputRange(k, _) if *k >= self.outputs.len() => return Err(bad(format!("no output y{k}"))),
                Buf::OutputRange(k, r) if r.start > r.end || r.end > self.outputs[*k] => {
                    return Err(bad(format!("{} is outside y{k} of {} elements", o.name(), self.outputs[*k])));
                }
                Buf::Input(_) | Buf::Packed => return Err(bad(format!("{} is read-only", o.name()))),
                Buf::Workspace(r) if r.start > r.end || r.end > self.workspace => {
                    return Err(bad(format!("{} is outside the workspace of {} elements", o.name(), self.workspace)));
                }
                _ => {}
            }
            for p in &outs[..i] {
                if overlaps(o, p) {
                    return Err(bad(format!("outputs {} and {} overlap", p.name(), o.name())));
                }
            }
            for p in ins {
                if overlaps(o, p) {
                    return Err(bad(format!("{} is both written and read", o.name())));
                }
            }
        }
        for i in ins {
            match i {
                Buf::Input(k) if self.inputs.get(*k).copied().flatten().is_none() => {
                    return Err(bad(format!("input x{k} is missing")));
                }
                Buf::Output(k) if *k >= self.outputs.len() => return Err(bad(format!("no output y{k}"))),
                Buf::OutputRange(..) => return Err(bad(format!("{}: read a node output whole (y{{k}}), not a range", i.name()))),
                Buf::Workspace(r) if r.start > r.end || r.end > self.workspace => {
                    return Err(bad(format!("{} is outside the workspace of {} elements", i.name(), self.workspace)));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The f32 buffers of one kernel call on the CPU.
#[derive(Debug)]
pub struct CpuBuffers<'a> {
    /// Node inputs (`None` for omitted optional inputs).
    pub inputs: PerInput<Option<&'a [f32]>>,
    /// Node outputs.
    pub outputs: PerOutput<&'a mut [f32]>,
    /// Packed weights (empty when the algorithm packs none).
    pub packed: &'a [f32],
    /// Scratch memory.
    pub workspace: &'a mut [f32],
}

impl CpuBuffers<'_> {
    /// Borrows `outs` mutably and `ins` shared for one launch. Errors (instead of aliasing)
    /// when an output is named twice, when two ranges overlap, when a workspace range is
    /// out of bounds, or when a buffer is both written and read. Allocates nothing.
    pub fn views<const O: usize, const I: usize>(
        &mut self,
        outs: &[Buf; O],
        ins: &[Buf; I],
    ) -> Result<LaunchViews<'_, O, I>> {
        let bad = |msg: String| Error::Graph(format!("kernel schedule: {msg}"));
        let lens = BufferLens {
            inputs: self.inputs.iter().map(|i| i.map(<[f32]>::len)).collect(),
            outputs: self.outputs.iter().map(|o| o.len()).collect(),
            workspace: self.workspace.len(),
        };
        lens.check(outs, ins)?;

        // Cut the workspace at the boundaries of the output ranges only: each output range is
        // then exactly one piece (outputs are disjoint from every other range), and each input
        // range lies inside one of the gaps between outputs, which become shared slices.
        let mut out_views: [Option<&mut [f32]>; O] = std::array::from_fn(|_| None);
        let mut in_views: [Option<&[f32]>; I] = [None; I];
        let mut ws_outs: SmallVec<[(usize, Range<usize>); 2]> = outs
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Buf::Workspace(r) => Some((i, r.clone())),
                _ => None,
            })
            .collect();
        ws_outs.sort_by_key(|(_, r)| r.start);
        let mut gaps: SmallVec<[(usize, &[f32]); 3]> = SmallVec::new();
        let mut rest: &mut [f32] = &mut *self.workspace;
        let mut at = 0;
        for (i, r) in ws_outs {
            let (gap, tail) = rest.split_at_mut(r.start - at);
            let (piece, tail) = tail.split_at_mut(r.end - r.start);
            gaps.push((at, &*gap));
            out_views[i] = Some(piece);
            rest = tail;
            at = r.end;
        }
        gaps.push((at, &*rest));
        for (i, b) in ins.iter().enumerate() {
            if let Buf::Workspace(r) = b {
                let gap = gaps.iter().find(|(s, g)| *s <= r.start && r.end <= *s + g.len());
                match gap {
                    Some((s, g)) => in_views[i] = Some(&g[r.start - s..r.end - s]),
                    None => return Err(bad(format!("could not borrow {}", b.name()))),
                }
            }
        }
        // Node outputs.
        let mut node_outs: PerOutput<Option<&mut [f32]>> = self.outputs.iter_mut().map(|o| Some(&mut **o)).collect();
        for (i, o) in outs.iter().enumerate() {
            match o {
                Buf::Output(k) => out_views[i] = node_outs[*k].take(),
                // At most one range per output (overlap check above), so take the whole
                // output and cut the range from it.
                Buf::OutputRange(k, r) => out_views[i] = node_outs[*k].take().map(|o| &mut o[r.clone()]),
                _ => {}
            }
        }
        // Inputs: node inputs, packed weights, node outputs read back (written by an earlier
        // launch of this schedule).
        let node_outs_shared: PerOutput<Option<&[f32]>> = node_outs.into_iter().map(|o| o.map(|o| &*o)).collect();
        for (i, b) in ins.iter().enumerate() {
            match b {
                Buf::Input(k) => in_views[i] = self.inputs[*k],
                Buf::Packed => in_views[i] = Some(self.packed),
                Buf::Output(k) => in_views[i] = node_outs_shared[*k],
                Buf::OutputRange(..) | Buf::Workspace(_) => {}
            }
        }
        if out_views.iter().any(Option::is_none) {
            return Err(bad("an output could not be borrowed".into()));
        }
        if in_views.iter().any(Option::is_none) {
            return Err(bad("an input could not be borrowed".into()));
        }
        Ok((out_views.map(Option::unwrap_or_default), in_views.map(Option::unwrap_or_default)))
    }
}

fn overlaps(a: &Buf, b: &Buf) -> bool {
    match (a, b) {
        (Buf::Output(x), Buf::Output(y)) => x == y,
        // Two ranges of the same output in one launch are refused even when disjoint: one
        // launch writes one range of an output.
        (Buf::Output(x) | Buf::OutputRange(x, _), Buf::Output(y) | Buf::OutputRange(y, _)) => x == y,
        (Buf::Workspace(r), Buf::Workspace(s)) => r.start < s.end && s.start < r.end,
        _ => false,
    }
}

/// Number of work-items a launch runs: chunks of `chunk` elements over `len` elements.
pub fn grid(len: usize, chunk: usize) -> usize {
    len.div_ceil(chunk.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_views_and_refusals() {
        let x = vec![1.0f32; 4];
        let mut y = vec![0.0f32; 3];
        let mut ws = vec![0.0f32; 10];
        let packed = vec![2.0f32; 2];
        let mut b = CpuBuffers { inputs: smallvec::smallvec![Some(&x[..])], outputs: smallvec::smallvec![&mut y[..]], packed: &packed, workspace: &mut ws };
        {
            let (mut o, i) = b.views(&[Buf::Workspace(0..4), Buf::Output(0)], &[Buf::Input(0), Buf::Packed, Buf::Workspace(6..10)]).unwrap();
            assert_eq!(o[0].len(), 4);
            assert_eq!(o[1].len(), 3);
            o[0][0] = 5.0;
            assert_eq!(i[0].len(), 4);
            assert_eq!(i[1], &[2.0, 2.0]);
            assert_eq!(i[2].len(), 4);
        }
        // Overlapping output and input ranges are refused.
        assert!(b.views(&[Buf::Workspace(0..5)], &[Buf::Workspace(4..8)]).is_err());
        // Same output twice, read-only outputs, out of range.
        assert!(b.views(&[Buf::Output(0), Buf::Output(0)], &[]).is_err());
        assert!(b.views(&[Buf::Input(0)], &[]).is_err());
        assert!(b.views(&[Buf::Workspace(8..12)], &[]).is_err());
        // A range of an output.
        {
            let (o, _) = b.views(&[Buf::OutputRange(0, 1..3)], &[Buf::Input(0)]).unwrap();
            assert_eq!(o[0].len(), 2);
        }
        assert!(b.views(&[Buf::OutputRange(0, 2..4)], &[]).is_err());
        assert!(b.views(&[Buf::OutputRange(0, 0..1), Buf::OutputRange(0, 1..2)], &[]).is_err());
        // Reading a workspace region written by the previous launch.
        let (_, i) = b.views(&[Buf::Output(0)], &[Buf::Workspace(0..4)]).unwrap();
        assert_eq!(i[0][0], 5.0);
    }
}

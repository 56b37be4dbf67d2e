//! Cost figures of a graph: multiply-accumulates per node and weight bytes.

use super::{Graph, NodeId, Op};

impl Graph {
    /// Multiply-accumulates of node `id` (convolutions, transposed convolutions, GEMM and
    /// MatMul; 0 for other operators), from the shapes recorded in the graph. `None` when a
    /// needed shape is unknown or symbolic, or the count overflows 64 bits.
    ///
    /// Counted as Keras' and the seed's scripts count them: a convolution costs
    /// `output elements * KH * KW * input channels per group`.
    pub fn node_macs(&self, id: NodeId) -> Option<u64> {
        let node = self.nodes.get(id)?;
        let shape = |t: Option<usize>| self.tensors.get(t?)?.fixed_shape();
        // Checked: shapes come from files, and a hostile one must not overflow.
        let prod = |s: &[usize]| s.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
        match &node.op {
            Op::Conv2d(_) => {
                // Weight [O, KH, KW, C / groups]: each output element costs KH * KW * C / groups.
                let out = shape(node.outputs.first().copied())?;
                let w = shape(node.input(1))?;
                prod(&out)?.checked_mul(prod(w.get(1..)?)?)
            }
            Op::ConvTranspose2d(_) => {
                let x = shape(node.input(0))?;
                let w = shape(node.input(1))?;
                // Every input pixel scatters KH * KW * (O / groups) products per channel.
                prod(&x)?.checked_mul(prod(w.get(1..)?)?)
            }
            Op::Gemm(g) => {
                let a = shape(node.input(0))?;
                let b = shape(node.input(1))?;
                let (m, k) = if g.trans_a { (*a.get(1)?, *a.first()?) } else { (*a.first()?, *a.get(1)?) };
                let n = if g.trans_b { *b.first()? } else { *b.get(1)? };
                (m as u64).checked_mul(n as u64)?.checked_mul(k as u64)
            }
            Op::MatMul => {
                let a = shape(node.input(0))?;
                let out = shape(node.outputs.first().copied())?;
                let k = *a.last()?;
                prod(&out)?.checked_mul(k as u64)
            }
            _ => Some(0),
        }
    }

    /// Total multiply-accumulates, `None` if any node's count is unknown.
    pub fn total_macs(&self) -> Option<u64> {
        (0..self.nodes.len()).try_fold(0u64, |acc, i| acc.checked_add(self.node_macs(i)?))
    }

    /// Bytes of all constant tensors.
    pub fn weight_bytes(&self) -> u64 {
        self.tensors.iter().filter_map(|t| t.data.as_ref()).map(|d| d.len() as u64).sum()
    }
}

//! Folding a per-output-channel affine map `y * scale[c] + shift[c]` into the weights and
//! bias of the layer that computes `y` (a [`Op::Conv2d`], [`Op::ConvTranspose2d`] or
//! [`Op::Gemm`] with no fused activation). Shared by batch-norm folding and bias fusion.
//!
//! The layer is linear in its weights and bias: `conv(x, w, b) * s + t = conv(x, w * s,
//! b * s + t)` with `s` and `t` applied per output channel. The new weights and bias are
//! new constants (the old ones may be shared with other nodes); dead-node removal drops the
//! old ones when nothing else reads them.

use ferrolite_runtime::ir::{Activation, Graph, NodeId, Op, TensorId};

use super::rewrite::{add_f32_const, const_f32, fixed_shape, is_f32_const, is_graph_output};

/// What a channel-affine fold needs to know about the layer that produces a tensor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChannelLayer {
    /// The layer's node.
    pub node: NodeId,
    /// Its output (the tensor the affine map applies to).
    pub output: TensorId,
    /// Number of output channels (the size of the output's last axis).
    pub channels: usize,
    /// Rank of the output: 4 for convolutions, 2 for Gemm.
    pub out_rank: usize,
}

/// If node `id` is a convolution or Gemm with constant f32 weights (and bias, if any) and no
/// fused activation, its channel count and output rank.
pub(crate) fn channel_layer(g: &Graph, id: NodeId) -> Option<ChannelLayer> {
    let node = g.nodes.get(id)?;
    let [output] = node.outputs[..] else { return None };
    let weight_id = node.input(1)?;
    if !is_f32_const(g, weight_id) {
        return None;
    }
    let weight = fixed_shape(g, weight_id)?;
    let (channels, out_rank) = match &node.op {
        Op::Conv2d(a) if a.activation == Activation::None && weight.len() == 4 => (weight[0], 4),
        Op::ConvTranspose2d(a) if a.activation == Activation::None && weight.len() == 4 && a.groups > 0 => {
            (weight[3].checked_mul(a.groups)?, 4)
        }
        Op::Gemm(a) if a.activation == Activation::None && weight.len() == 2 => {
            (if a.trans_b { weight[0] } else { weight[1] }, 2)
        }
        _ => return None,
    };
    if let Some(bias) = node.input(2) {
        if !is_f32_const(g, bias) {
            return None;
        }
        if !matches!(node.op, Op::Gemm(_)) && fixed_shape(g, bias)? != [channels] {
            return None;
        }
    }
    Some(ChannelLayer { node: id, output, channels, out_rank })
}

/// The node that reads `t`, if exactly one node reads it, reads it once, and `t` is not a
/// graph output: the condition for merging that node into `t`'s producer.
pub(crate) fn sole_reader(g: &Graph, t: TensorId) -> Option<NodeId> {
    if is_graph_output(g, t) {
        return None;
    }
    let mut reader = None;
    for (id, node) in g.nodes.iter().enumerate() {
        let uses = node.inputs.iter().flatten().filter(|&&i| i == t).count();
        if uses == 0 {
            continue;
        }
        if uses > 1 || reader.is_some() {
            return None;
        }
        reader = Some(id);
    }
    reader
}

/// Rewrites the weights and bias of `layer` so that it computes `y * scale + shift` per
/// output channel. `scale` and `shift` have `layer.channels` entries each. Returns `false`,
/// leaving the graph unchanged, if the layer's constants do not have the expected form.
pub(crate) fn apply_channel_affine(
    g: &mut Graph,
    layer: ChannelLayer,
    scale: Option<&[f32]>,
    shift: Option<&[f32]>,
) -> bool {
    let c = layer.channels;
    if scale.is_some_and(|s| s.len() != c) || shift.is_some_and(|t| t.len() != c) {
        return false;
    }
    let node = &g.nodes[layer.node];
    // A fused residual is added after the bias: scaling the weights would not scale it.
    if node.input(3).is_some() {
        return false;
    }
    let (Some(w_id), bias_id) = (node.input(1), node.input(2)) else { return false };
    let (Some(w_shape), Some(mut w)) = (fixed_shape(g, w_id), const_f32(g, w_id)) else { return false };
    let name = g.nodes[layer.node].name.clone();
    let op = g.nodes[layer.node].op.clone();

    if let Some(s) = scale {
        // Index of the output channel of each weight element.
        let ok = match &op {
            Op::Conv2d(_) => {
                let inner = w.len() / c.max(1);
                for (i, v) in w.iter_mut().enumerate() {
                    *v *= s[i / inner.max(1)];
                }
                w_shape[0] == c
            }
            Op::ConvTranspose2d(a) => {
                // [I, KH, KW, O / groups]: input channel i belongs to group i / (I / groups),
                // whose outputs are group * (O / groups) + j.
                let (in_ch, per_group_out) = (w_shape[0], w_shape[3]);
                if a.groups == 0 || in_ch % a.groups != 0 || per_group_out == 0 {
                    return false;
                }
                let in_per_group = in_ch / a.groups;
                let row = w.len() / in_ch.max(1);
                for (i, v) in w.iter_mut().enumerate() {
                    let group = (i / row) / in_per_group;
                    *v *= s[group * per_group_out + i % per_group_out];
                }
                true
            }
            Op::Gemm(a) => {
                if a.trans_b {
                    let k = w_shape[1];
                    for (i, v) in w.iter_mut().enumerate() {
                        *v *= s[i / k.max(1)];
                    }
                } else {
                    for (i, v) in w.iter_mut().enumerate() {
                        *v *= s[i % c];
                    }
                }
                true
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }

    // The new bias: `bias * scale + shift` (for Gemm, `beta * C * scale + shift`).
    let mut new_gemm_beta = None;
    let new_bias: Option<(Vec<usize>, Vec<f32>)> = match &op {
        Op::Gemm(a) => {
            let current = match bias_id {
                Some(b) => {
                    let (Some(shape), Some(values)) = (fixed_shape(g, b), const_f32(g, b)) else { return false };
                    let Some((rows, values)) = gemm_bias_rows(&shape, &values, c) else { return false };
                    Some((rows, values.iter().map(|v| v * a.beta).collect::<Vec<f32>>()))
                }
                None => None,
            };
            if current.is_none() && shift.is_none() {
                None
            } else {
                let (rows, mut values) = current.unwrap_or_else(|| (1, vec![0.0; c]));
                for (i, v) in values.iter_mut().enumerate() {
                    let ch = i % c;
                    *v = *v * scale.map_or(1.0, |s| s[ch]) + shift.map_or(0.0, |t| t[ch]);
                }
                new_gemm_beta = Some(1.0);
                let shape = if rows == 1 { vec![c] } else { vec![rows, c] };
                Some((shape, values))
            }
        }
        _ => {
            let current = match bias_id {
                Some(b) => match const_f32(g, b) {
                    Some(v) if v.len() == c => Some(v),
                    _ => return false,
                },
                None => None,
            };
            if current.is_none() && shift.is_none() {
                None
            } else {
                let mut values = current.unwrap_or_else(|| vec![0.0; c]);
                for (ch, v) in values.iter_mut().enumerate() {
                    *v = *v * scale.map_or(1.0, |s| s[ch]) + shift.map_or(0.0, |t| t[ch]);
                }
                Some((vec![c], values))
            }
        }
    };

    if scale.is_some() {
        let new_w = add_f32_const(g, &format!("{name}/weight_folded"), &w_shape, &w);
        g.nodes[layer.node].inputs[1] = Some(new_w);
    }
    if let Some((shape, values)) = new_bias {
        let new_b = add_f32_const(g, &format!("{name}/bias_folded"), &shape, &values);
        let node = &mut g.nodes[layer.node];
        if node.inputs.len() < 3 {
            node.inputs.resize(3, None);
        }
        node.inputs[2] = Some(new_b);
        if let (Op::Gemm(a), Some(beta)) = (&mut node.op, new_gemm_beta) {
            a.beta = beta;
        }
    }
    true
}

/// A Gemm bias `C` (broadcastable to `[M, N]`) as `rows` rows of `n` values each: one row
/// when it is the same for every row of the output, else `M` rows.
fn gemm_bias_rows(shape: &[usize], values: &[f32], n: usize) -> Option<(usize, Vec<f32>)> {
    let (rows, cols) = match shape {
        [] => (1, 1),
        [cols] => (1, *cols),
        [rows, cols] => (*rows, *cols),
        _ => return None,
    };
    if cols != 1 && cols != n {
        return None;
    }
    let mut out = Vec::with_capacity(rows * n);
    for r in 0..rows {
        for j in 0..n {
            out.push(*values.get(r * cols + if cols == 1 { 0 } else { j })?);
        }
    }
    Some((rows, out))
}

/// Makes `layer` produce the output of `reader` (which consumed the layer's output and has
/// just been folded into it) and removes `reader`. The layer's old output tensor is left
/// orphaned for [`compact_tensors`](super::rewrite::compact_tensors).
pub(crate) fn absorb_reader(g: &mut Graph, layer: ChannelLayer, reader: NodeId) {
    let [out] = g.nodes[reader].outputs[..] else { return };
    g.nodes[layer.node].outputs = vec![out];
    g.nodes.remove(reader);
}

/// The values of constant `t` as one value per channel, if `t` broadcast against a tensor of
/// rank `out_rank` whose last axis has `channels` entries varies only along that axis (and
/// does not enlarge the tensor): shapes `[]`, `[1]`, `[C]`, `[1, 1, 1, C]`, ...
pub(crate) fn per_channel_const(g: &Graph, t: TensorId, channels: usize, out_rank: usize) -> Option<Vec<f32>> {
    let shape = fixed_shape(g, t)?;
    let values = const_f32(g, t)?;
    if shape.len() > out_rank {
        return None;
    }
    let (last, lead) = match shape.split_last() {
        Some((last, lead)) => (*last, lead),
        None => (1, &[][..]),
    };
    if lead.iter().any(|&d| d != 1) {
        return None;
    }
    match last {
        1 => Some(vec![*values.first()?; channels]),
        n if n == channels => Some(values),
        _ => None,
    }
}

//! Shape and dtype inference over the whole graph, and fixing symbolic input dimensions.
//!
//! [`infer_shapes`] walks the nodes in order and asks [`ferrolite_runtime::ops::infer`] for
//! each node's output dtypes and shapes, given what is known of its inputs (dtypes, possibly
//! symbolic shapes, and the values of constants). Results are written into
//! [`TensorInfo::shape`](ferrolite_runtime::ir::TensorInfo) and `dtype`. Shapes the model
//! declares (ONNX `value_info`, graph outputs) are kept where inference knows less (`?`),
//! and overridden where inference knows more.
//!
//! [`set_input_shapes`] implements `--input-shape NAME=DIMS`: it replaces symbolic input
//! dimensions by the given sizes, everywhere the same symbol appears.

use std::collections::HashMap;

use ferrolite_runtime::ir::{Dim, Graph, TensorId};
use ferrolite_runtime::ops::{Fact, OutFact, infer};
use ferrolite_runtime::{Error as RuntimeError, TensorView};

use super::rewrite::{align_constants, ir_error};
use crate::{ConvertError, Result};

/// Infers the dtype and shape of every node output, in node order.
///
/// Errors name the node (as [`Graph::node_label`] prints it) and say what does not fit.
pub fn infer_shapes(g: &mut Graph) -> Result<()> {
    align_constants(g);
    for id in 0..g.nodes.len() {
        let facts = infer_node(g, id)?;
        let node = &g.nodes[id];
        if facts.len() != node.outputs.len() {
            return Err(node_error(
                g,
                id,
                format!("shape inference gives {} outputs, the node has {}", facts.len(), node.outputs.len()),
            ));
        }
        let outputs = node.outputs.clone();
        for (t, fact) in outputs.into_iter().zip(facts) {
            let info = g.tensors.get_mut(t).ok_or_else(|| ir_error(format!("output tensor #{t} does not exist")))?;
            if info.is_const() {
                continue;
            }
            info.dtype = fact.dtype;
            info.shape = merge_shapes(fact.shape, info.shape.take());
        }
    }
    Ok(())
}

/// Runs [`infer`] for node `id` on what the graph knows of its inputs.
fn infer_node(g: &Graph, id: usize) -> Result<Vec<OutFact>> {
    let node = &g.nodes[id];
    let mut infos = Vec::with_capacity(node.inputs.len());
    for input in &node.inputs {
        match input {
            None => infos.push(None),
            Some(t) => {
                let info =
                    g.tensors.get(*t).ok_or_else(|| node_error(g, id, format!("input tensor #{t} does not exist")))?;
                infos.push(Some((info, info.fixed_shape())));
            }
        }
    }
    let mut facts = Vec::with_capacity(infos.len());
    for entry in &infos {
        let Some((info, fixed)) = entry else {
            facts.push(None);
            continue;
        };
        let value = match (&info.data, fixed) {
            (Some(data), Some(shape)) => Some(TensorView::new(info.dtype, shape, data.bytes()).map_err(|e| {
                node_error(g, id, format!("constant input \"{}\" does not match its shape: {e}", info.name))
            })?),
            (Some(_), None) => {
                return Err(node_error(g, id, format!("constant input \"{}\" has no fixed shape", info.name)));
            }
            (None, _) => None,
        };
        facts.push(Some(Fact { dtype: info.dtype, shape: info.shape.as_deref(), value }));
    }
    infer(&node.op, &facts, node.outputs.len()).map_err(|e| node_error(g, id, e))
}

fn node_error(g: &Graph, id: usize, msg: impl Into<String>) -> ConvertError {
    ConvertError::Runtime(RuntimeError::node(g.node_label(id), msg))
}

/// Combines an inferred shape with the shape the tensor already had (declared by the model
/// or inferred before). Inference wins, except for dims it could not determine (`?`) where
/// the previous shape has something of the same rank.
fn merge_shapes(inferred: Option<Vec<Dim>>, previous: Option<Vec<Dim>>) -> Option<Vec<Dim>> {
    match (inferred, previous) {
        (Some(new), Some(old)) if new.len() == old.len() => Some(
            new.into_iter()
                .zip(old)
                .map(|(n, o)| match (&n, &o) {
                    (Dim::Sym(s), _) if s == "?" => o,
                    _ => n,
                })
                .collect(),
        ),
        (Some(new), _) => Some(new),
        (None, old) => old,
    }
}

/// Fixes symbolic input dimensions: each `(name, dims)` gives the full shape of the graph
/// input `name`. A symbol fixed this way is replaced by its size in every tensor of the
/// graph, so other inputs and declared shapes that share it agree.
///
/// Errors for an unknown input name, a rank that differs from the model's, a size that
/// differs from a fixed dimension of the model, or a symbol given two different sizes.
pub fn set_input_shapes(g: &mut Graph, shapes: &[(String, Vec<usize>)]) -> Result<()> {
    let mut symbols: HashMap<String, usize> = HashMap::new();
    for (name, given) in shapes {
        let input: TensorId =
            g.inputs.iter().copied().find(|&t| g.tensors.get(t).is_some_and(|i| &i.name == name)).ok_or_else(|| {
                let names: Vec<String> =
                    g.inputs.iter().filter_map(|&t| g.tensors.get(t)).map(|i| format!("\"{}\"", i.name)).collect();
                input_error(format!("--input-shape names \"{name}\", but the model's inputs are {}", names.join(", ")))
            })?;
        let declared = g.tensors[input].shape.clone();
        let Some(declared) = declared else {
            g.tensors[input].shape = Some(given.iter().map(|&d| Dim::Fixed(d)).collect());
            continue;
        };
        if declared.len() != given.len() {
            return Err(input_error(format!(
                "--input-shape {name}: the model's input has rank {} ({}), {} dims were given",
                declared.len(),
                show(&declared),
                given.len()
            )));
        }
        let mut fixed = Vec::with_capacity(given.len());
        for (axis, (d, &size)) in declared.iter().zip(given).enumerate() {
            match d {
                Dim::Fixed(n) if *n != size => {
                    return Err(input_error(format!(
                        "--input-shape {name}: dim {axis} is fixed to {n} in the model ({}), {size} was given",
                        show(&declared)
                    )));
                }
                Dim::Sym(s) if s != "?" => {
                    if let Some(&prev) = symbols.get(s)
                        && prev != size
                    {
                        return Err(input_error(format!(
                            "--input-shape {name}: dim {axis} is \"{s}\", which another input fixes to {prev}, but {size} was given"
                        )));
                    }
                    symbols.insert(s.clone(), size);
                }
                _ => {}
            }
            fixed.push(Dim::Fixed(size));
        }
        g.tensors[input].shape = Some(fixed);
    }
    if !symbols.is_empty() {
        for info in &mut g.tensors {
            for d in info.shape.iter_mut().flatten() {
                if let Dim::Sym(s) = d
                    && let Some(&size) = symbols.get(s.as_str())
                {
                    *d = Dim::Fixed(size);
                }
            }
        }
    }
    Ok(())
}

fn input_error(msg: String) -> ConvertError {
    ConvertError::Invalid { format: "IR", msg }
}

fn show(shape: &[Dim]) -> String {
    ferrolite_runtime::ops::util::show(shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrolite_runtime::ir::{Activation, DType, Op, TensorInfo, Unary};

    fn sym(s: &str) -> Dim {
        Dim::Sym(s.into())
    }

    fn two_input_graph() -> Graph {
        let mut g = Graph::default();
        let a = g.add_tensor(TensorInfo {
            name: "a".into(),
            dtype: DType::F32,
            shape: Some(vec![sym("batch"), Dim::Fixed(3), sym("h")]),
            data: None,
        });
        let b = g.add_tensor(TensorInfo {
            name: "b".into(),
            dtype: DType::F32,
            shape: Some(vec![sym("batch"), Dim::Fixed(3)]),
            data: None,
        });
        let y = g.add_value("y", DType::F32);
        g.inputs = vec![a, b];
        g.outputs = vec![y];
        g.add_node("relu", Op::Unary(Unary::Act(Activation::Relu)), vec![Some(a)], vec![y]);
        g
    }

    #[test]
    fn input_shapes_fix_symbols_everywhere() {
        let mut g = two_input_graph();
        set_input_shapes(&mut g, &[("a".into(), vec![2, 3, 5])]).unwrap();
        assert_eq!(g.tensors[0].fixed_shape(), Some(vec![2, 3, 5]));
        // "batch" is shared with b.
        assert_eq!(g.tensors[1].fixed_shape(), Some(vec![2, 3]));
    }

    #[test]
    fn input_shapes_errors() {
        let mut g = two_input_graph();
        let e = set_input_shapes(&mut g, &[("c".into(), vec![1])]).unwrap_err().to_string();
        assert!(e.contains("\"c\"") && e.contains("\"a\", \"b\""), "{e}");
        let e = set_input_shapes(&mut g, &[("a".into(), vec![1, 3])]).unwrap_err().to_string();
        assert!(e.contains("rank 3"), "{e}");
        let e = set_input_shapes(&mut g, &[("a".into(), vec![1, 4, 5])]).unwrap_err().to_string();
        assert!(e.contains("dim 1 is fixed to 3"), "{e}");
        let e =
            set_input_shapes(&mut g, &[("a".into(), vec![1, 3, 5]), ("b".into(), vec![2, 3])]).unwrap_err().to_string();
        assert!(e.contains("\"batch\""), "{e}");
    }

    #[test]
    fn merge_prefers_inference_but_keeps_declared_where_unknown() {
        let inferred = Some(vec![sym("?"), Dim::Fixed(4)]);
        let declared = Some(vec![sym("batch"), sym("n")]);
        assert_eq!(merge_shapes(inferred, declared), Some(vec![sym("batch"), Dim::Fixed(4)]));
        assert_eq!(merge_shapes(None, Some(vec![Dim::Fixed(1)])), Some(vec![Dim::Fixed(1)]));
        assert_eq!(
            merge_shapes(Some(vec![Dim::Fixed(2)]), Some(vec![Dim::Fixed(1), Dim::Fixed(1)])),
            Some(vec![Dim::Fixed(2)])
        );
    }
}

//! Feeds arbitrary bytes to the `.flm` reader.
//!
//! The first input byte selects a mode: when its low bit is set, the rest of the input gets
//! its header checksum recomputed before reading, so mutations reach the graph decoder and
//! the validator instead of stopping at the checksum.
//!
//! Properties checked: reading never panics; a file that loads validates, its weights can
//! be verified, and it round-trips through the writer to an identical graph.
#![no_main]

use std::sync::Arc;

use ferrolite_runtime::format::{self, SECTION_WEIGHTS};
use ferrolite_runtime::ir::{AlignedBytes, Graph};
use libfuzzer_sys::fuzz_target;

/// Recomputes the header checksum following the documented layout (header bytes before the
/// checksum, then every non-WEIGHTS section in table order); leaves the input alone where
/// the table cannot be followed.
fn reseal(bytes: &mut [u8]) {
    let le32 = |b: &[u8], at: usize| b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let le64 = |b: &[u8], at: usize| {
        b.get(at..at + 8).map(|s| u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
    };
    let Some(count) = le32(bytes, 16) else { return };
    if count > 64 {
        return;
    }
    let crc_at = 24 + 24 * count as usize;
    if bytes.len() < crc_at + 4 {
        return;
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[..crc_at]);
    for i in 0..count as usize {
        let at = 24 + 24 * i;
        let (Some(kind), Some(off), Some(len)) = (le32(bytes, at), le64(bytes, at + 8), le64(bytes, at + 16)) else {
            return;
        };
        if kind == SECTION_WEIGHTS {
            continue;
        }
        let range =
            usize::try_from(off).ok().zip(usize::try_from(len).ok()).and_then(|(o, l)| Some(o..o.checked_add(l)?));
        match range.and_then(|r| bytes.get(r)) {
            Some(section) => crc.update(section),
            None => return,
        }
    }
    let sum = crc.finalize().to_le_bytes();
    bytes[crc_at..crc_at + 4].copy_from_slice(&sum);
}

fn same_graph(a: &Graph, b: &Graph) -> bool {
    a.inputs == b.inputs
        && a.outputs == b.outputs
        && a.tensors.len() == b.tensors.len()
        && a.tensors.iter().zip(&b.tensors).all(|(x, y)| {
            x.name == y.name
                && x.dtype == y.dtype
                && x.shape == y.shape
                && x.data.as_ref().map(|d| d.bytes()) == y.data.as_ref().map(|d| d.bytes())
        })
        && a.nodes.len() == b.nodes.len()
        && a.nodes.iter().zip(&b.nodes).all(|(x, y)| {
            x.name == y.name
                && x.inputs == y.inputs
                && x.outputs == y.outputs
                && format!("{:?}", x.op) == format!("{:?}", y.op)
        })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        reseal(&mut bytes);
    }
    let Ok(file) = format::read(Arc::new(AlignedBytes::from_slice(&bytes))) else { return };
    file.graph.validate().expect("a graph that loads validates");
    let _ = file.verify_weights();
    let written = format::to_bytes(&file.graph, &file.metadata).expect("a graph that loads can be written");
    let again = format::read(Arc::new(AlignedBytes::from_slice(&written))).expect("a written graph reads back");
    // `Op` compares floats by value (NaN != NaN), so compare ops by their debug text.
    assert!(same_graph(&file.graph, &again.graph), "round trip changed the graph");
    assert_eq!(file.metadata, again.metadata);
});

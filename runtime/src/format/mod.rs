//! The `.flm` model file format: writing, and reading with every offset, length, shape,
//! dtype and index checked before use.
//!
//! A `.flm` file is read in place: the runtime memory-maps it, checks the small header and
//! graph eagerly, and hands kernels windows of the mapped weights ([`ConstData::window`]),
//! so loading a model touches the graph's pages only. Weights carry a CRC-32 each, checked
//! on demand by [`verify_weights`] (`ferrolite info --verify`).
//!
//! # Layout (format version 1)
//!
//! All integers are little-endian. Offsets are from the start of the file unless stated.
//!
//! ```text
//! offset      size  field
//! 0           8     magic "FERROLM\0"
//! 8           4     u32 format version (1)
//! 12          4     u32 flags (none defined; must be 0)
//! 16          4     u32 section count N (1..=64)
//! 20          4     u32 reserved (must be 0)
//! 24          24*N  section table, one entry per section:
//!                     u32 kind, u32 reserved (0), u64 offset, u64 length
//! 24+24N      4     u32 CRC-32 (IEEE) of bytes [0, 24+24N), followed by the bytes of
//!                   every section except WEIGHTS, in table order
//! ...               sections
//! ```
//!
//! Section kinds: `1` GRAPH (required), `2` WEIGHTS, `3` METADATA. A kind with bit 31 set is
//! optional: readers that do not know it skip it (it is still bounds- and overlap-checked).
//! Any other unknown kind is an error. Each known kind appears at most once. Sections lie
//! after the header, inside the file, and do not overlap; gaps between them are padding.
//! WEIGHTS starts at a multiple of 64. The writer puts them in the order GRAPH, METADATA,
//! WEIGHTS, so the eagerly read part of the file is contiguous and the weights are last.
//!
//! **GRAPH** is a sequence of [postcard](https://docs.rs/postcard) values (varint integers,
//! length-prefixed strings and lists, enums as a varint variant index then the fields):
//!
//! ```text
//! varint T, then T tensor records  { name: String, dtype, shape: Option<Vec<Dim>>,
//!                                    weights: Option<{ offset: u64, len: u64, crc32: u32 }> }
//! varint N, then N node records    { name: String, op, inputs: Vec<Option<u64>>,
//!                                    outputs: Vec<u64> }
//! Vec<u64> graph inputs (tensor ids), Vec<u64> graph outputs (tensor ids)
//! ```
//!
//! The records are the mirror types in `format/records.rs`, not the IR types, so the IR can
//! change without changing what files mean. Tensor ids index the tensor records. A constant's
//! `weights.offset` is relative to the WEIGHTS section and a multiple of 64; `len` is
//! `numel(shape) * dtype.size()`; `crc32` is the CRC-32 of those bytes. Several constants may
//! share one window (the writer stores identical buffers once). The section must be consumed
//! exactly.
//!
//! **WEIGHTS** holds the constants' raw little-endian element bytes at their offsets; the
//! bytes between them are zero padding.
//!
//! **METADATA** is one postcard record `{ producer: String, source: String }`.
//!
//! # Compatibility
//!
//! The version is bumped on *any* change to the encoding, including a new operator or enum
//! variant appended to the records. Readers accept every version up to their own and reject
//! newer ones with a message saying so, so an older runtime never misreads a newer file.
//!
//! # Robustness
//!
//! A truncated, corrupted or hostile file gets [`Error::Format`] with the byte offset of the
//! offending field or record; never a panic. Counts read from the file are checked against
//! the bytes that remain before anything is allocated for them (every record takes at least
//! one byte per field), and postcard itself refuses list lengths longer than its input and
//! serde caps preallocation at 1 MiB per list, so a hostile length cannot allocate much.
//! After decoding, every constant window is checked against the WEIGHTS section, its
//! alignment and its shape, and the graph goes through [`Graph::validate`].

mod records;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ir::validate::{Culprit, Invalid, const_numel};
use crate::ir::{ConstData, DType, Graph, Node, TensorId, TensorInfo, data::ByteStore};
use records::{DimRecord, MetadataRecord, NodeRecord, TensorRecord, WeightRef};

/// The 8 bytes every `.flm` file starts with.
pub const MAGIC: [u8; 8] = *b"FERROLM\0";
/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// Alignment of the WEIGHTS section and of every constant in it, in bytes.
pub const WEIGHT_ALIGN: usize = 64;

/// Section kind: the graph records (required).
pub const SECTION_GRAPH: u32 = 1;
/// Section kind: the constants' bytes.
pub const SECTION_WEIGHTS: u32 = 2;
/// Section kind: descriptive metadata.
pub const SECTION_METADATA: u32 = 3;
/// Bit of a section kind marking a section readers may skip when they do not know it.
pub const SECTION_OPTIONAL_BIT: u32 = 1 << 31;

/// Size of the fixed part of the header (magic to reserved).
const FIXED_HEADER_LEN: usize = 24;
/// Size of one section table entry.
const SECTION_ENTRY_LEN: usize = 24;
/// Most sections a file may declare (bounds the header a reader parses).
const MAX_SECTIONS: u32 = 64;
/// The fewest bytes a tensor record can take (name length, dtype, two option tags).
const MIN_TENSOR_RECORD: usize = 4;
/// The fewest bytes a node record can take (name length, op tag, two list lengths).
const MIN_NODE_RECORD: usize = 4;

/// Descriptive fields stored with the graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Tool that wrote the file (`ferrolite 0.1.0`).
    pub producer: String,
    /// What the model was converted from (`onnx`, `tflite`, `zoo`).
    pub source: String,
}

/// Where a constant's bytes lie in the file and the checksum they must have.
#[derive(Debug, Clone)]
pub struct StoredWeight {
    /// The constant tensor.
    pub tensor: TensorId,
    /// Byte offset of the constant in the file.
    pub offset: u64,
    /// CRC-32 (IEEE) recorded by the writer.
    pub crc32: u32,
    /// The bytes (a window of the file's store).
    pub data: ConstData,
}

/// A parsed `.flm` file.
#[derive(Debug)]
pub struct FlmFile {
    /// The graph; constants are windows of the file's store.
    pub graph: Graph,
    /// Descriptive fields.
    pub metadata: Metadata,
    /// Format version the file was written with.
    pub format_version: u32,
    /// Every constant's location and checksum, for [`verify_weights`].
    pub weights: Vec<StoredWeight>,
}

impl FlmFile {
    /// [`verify_weights`] on this file's constants.
    pub fn verify_weights(&self) -> Result<()> {
        verify_weights(&self.graph, &self.weights)
    }
}

fn bad(offset: usize, what: impl Into<String>) -> Error {
    Error::Format { offset: offset as u64, what: what.into() }
}

fn section_name(kind: u32) -> String {
    match kind {
        SECTION_GRAPH => "GRAPH".into(),
        SECTION_WEIGHTS => "WEIGHTS".into(),
        SECTION_METADATA => "METADATA".into(),
        k if k & SECTION_OPTIONAL_BIT != 0 => format!("optional section {k:#x}"),
        k => format!("section kind {k}"),
    }
}

// ---------------------------------------------------------------------------------------
// Writing

/// Where each constant goes in the WEIGHTS section.
struct WeightPlan<'g> {
    /// Per tensor, its window (constants only).
    refs: Vec<Option<WeightRef>>,
    /// Distinct buffers in file order with their section offsets.
    blobs: Vec<(u64, &'g [u8])>,
    /// Length of the WEIGHTS section.
    len: u64,
}

fn align_up(v: u64) -> u64 {
    v.div_ceil(WEIGHT_ALIGN as u64) * WEIGHT_ALIGN as u64
}

fn plan_weights(graph: &Graph) -> WeightPlan<'_> {
    let mut refs = Vec::with_capacity(graph.tensors.len());
    let mut blobs = Vec::new();
    // Constants sharing one buffer (same bytes in memory) are stored once.
    let mut seen: HashMap<(usize, usize), WeightRef> = HashMap::new();
    let mut end = 0u64;
    for t in &graph.tensors {
        let Some(data) = &t.data else {
            refs.push(None);
            continue;
        };
        let bytes = data.bytes();
        let key = (bytes.as_ptr() as usize, bytes.len());
        let r = *seen.entry(key).or_insert_with(|| {
            let offset = align_up(end);
            end = offset + bytes.len() as u64;
            blobs.push((offset, bytes));
            WeightRef { offset, len: bytes.len() as u64, crc32: crc32fast::hash(bytes) }
        });
        refs.push(Some(r));
    }
    WeightPlan { refs, blobs, len: end }
}

fn encode_err(e: postcard::Error) -> Error {
    // Serializing these records into a Vec cannot fail short of running out of memory.
    Error::Unsupported(format!("encoding the .flm graph failed: {e}"))
}

fn encode_graph(graph: &Graph, weights: &[Option<WeightRef>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out = postcard::to_extend(&(graph.tensors.len() as u64), out).map_err(encode_err)?;
    for (t, w) in graph.tensors.iter().zip(weights) {
        let rec = TensorRecord {
            name: t.name.clone(),
            dtype: t.dtype.into(),
            shape: t.shape.as_ref().map(|s| s.iter().map(DimRecord::from).collect()),
            weights: *w,
        };
        out = postcard::to_extend(&rec, out).map_err(encode_err)?;
    }
    out = postcard::to_extend(&(graph.nodes.len() as u64), out).map_err(encode_err)?;
    for n in &graph.nodes {
        let rec = NodeRecord {
            name: n.name.clone(),
            op: (&n.op).into(),
            inputs: n.inputs.iter().map(|i| i.map(|t| t as u64)).collect(),
            outputs: n.outputs.iter().map(|&t| t as u64).collect(),
        };
        out = postcard::to_extend(&rec, out).map_err(encode_err)?;
    }
    let ids = |v: &[TensorId]| v.iter().map(|&t| t as u64).collect::<Vec<u64>>();
    out = postcard::to_extend(&ids(&graph.inputs), out).map_err(encode_err)?;
    out = postcard::to_extend(&ids(&graph.outputs), out).map_err(encode_err)?;
    Ok(out)
}

/// Writes `graph` as a `.flm` file to `out`, streaming the weights from where they are (no
/// copy of the weights is made). Returns the number of bytes written.
///
/// The graph is validated first: a graph the reader would reject is not written.
pub fn write(graph: &Graph, metadata: &Metadata, mut out: impl Write) -> Result<u64> {
    graph.validate()?;
    let plan = plan_weights(graph);
    let graph_bytes = encode_graph(graph, &plan.refs)?;
    let meta_bytes =
        postcard::to_stdvec(&MetadataRecord { producer: metadata.producer.clone(), source: metadata.source.clone() })
            .map_err(encode_err)?;

    let sections = 3usize;
    let header_len = (FIXED_HEADER_LEN + SECTION_ENTRY_LEN * sections + 4) as u64;
    let graph_off = header_len;
    let meta_off = graph_off + graph_bytes.len() as u64;
    let weights_off = align_up(meta_off + meta_bytes.len() as u64);

    let mut header = Vec::with_capacity(header_len as usize);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // flags
    header.extend_from_slice(&(sections as u32).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // reserved
    for (kind, offset, len) in [
        (SECTION_GRAPH, graph_off, graph_bytes.len() as u64),
        (SECTION_METADATA, meta_off, meta_bytes.len() as u64),
        (SECTION_WEIGHTS, weights_off, plan.len),
    ] {
        header.extend_from_slice(&kind.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&offset.to_le_bytes());
        header.extend_from_slice(&len.to_le_bytes());
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header);
    crc.update(&graph_bytes);
    crc.update(&meta_bytes);
    header.extend_from_slice(&crc.finalize().to_le_bytes());

    let io = |source: std::io::Error| Error::Io { path: "<.flm output>".into(), source };
    out.write_all(&header).map_err(io)?;
    out.write_all(&graph_bytes).map_err(io)?;
    out.write_all(&meta_bytes).map_err(io)?;
    let zeros = [0u8; WEIGHT_ALIGN];
    let mut pos = meta_off + meta_bytes.len() as u64;
    for (offset, bytes) in std::iter::once((0, &[][..])).chain(plan.blobs.iter().copied()) {
        let target = weights_off + offset;
        // Padding is always less than WEIGHT_ALIGN bytes.
        out.write_all(&zeros[..(target - pos) as usize]).map_err(io)?;
        out.write_all(bytes).map_err(io)?;
        pos = target + bytes.len() as u64;
    }
    Ok(pos)
}

/// Serializes `graph` as a `.flm` file in memory.
pub fn to_bytes(graph: &Graph, metadata: &Metadata) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write(graph, metadata, &mut out)?;
    Ok(out)
}

/// Writes `graph` to the file `path`, replacing it only once the new file is complete (it
/// is written under a temporary name beside it, then renamed).
pub fn write_file(graph: &Graph, metadata: &Metadata, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let io = |p: &Path, source: std::io::Error| Error::Io { path: p.display().to_string(), source };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        let mut buf = std::io::BufWriter::new(file);
        write(graph, metadata, &mut buf)?;
        let file = buf.into_inner().map_err(|e| io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io(path, e))
    })();
    if result.is_err() {
        // Best effort: the temporary file is garbage either way.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------------------
// Reading

/// One checked section table entry.
#[derive(Debug, Clone, Copy)]
struct Section {
    kind: u32,
    start: usize,
    end: usize,
}

/// The checked header.
#[derive(Debug)]
struct Header {
    version: u32,
    sections: Vec<Section>,
}

impl Header {
    fn find(&self, kind: u32) -> Option<Section> {
        self.sections.iter().copied().find(|s| s.kind == kind)
    }
}

fn u32_at(bytes: &[u8], at: usize, what: &str) -> Result<u32> {
    let b = bytes.get(at..at + 4).ok_or_else(|| {
        bad(bytes.len(), format!("file ends inside the header ({what} at byte {at}); it is truncated"))
    })?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize, what: &str) -> Result<u64> {
    let lo = u32_at(bytes, at, what)? as u64;
    let hi = u32_at(bytes, at + 4, what)? as u64;
    Ok(lo | (hi << 32))
}

fn parse_header(bytes: &[u8]) -> Result<Header> {
    match bytes.get(..MAGIC.len()) {
        Some(m) if m == MAGIC => {}
        Some(_) => return Err(bad(0, "not a .flm file (wrong magic bytes)")),
        None if MAGIC.starts_with(bytes) => {
            return Err(bad(bytes.len(), format!("file is truncated ({} bytes)", bytes.len())));
        }
        None => return Err(bad(0, "not a .flm file (wrong magic bytes)")),
    }
    let version = u32_at(bytes, 8, "format version")?;
    if version > FORMAT_VERSION {
        return Err(bad(
            8,
            format!(
                "format version {version} is newer than this Ferrolite reads (up to {FORMAT_VERSION}); \
                 upgrade Ferrolite to load this model"
            ),
        ));
    }
    if version == 0 {
        return Err(bad(8, "format version 0 is not a valid version"));
    }
    let flags = u32_at(bytes, 12, "flags")?;
    if flags != 0 {
        return Err(bad(12, format!("unknown flags {flags:#x} (none are defined in version {version})")));
    }
    let count = u32_at(bytes, 16, "section count")?;
    if count == 0 || count > MAX_SECTIONS {
        return Err(bad(16, format!("section count {count} is outside 1..={MAX_SECTIONS}")));
    }
    if u32_at(bytes, 20, "reserved field")? != 0 {
        return Err(bad(20, "reserved header field is not zero"));
    }
    let header_len = FIXED_HEADER_LEN + SECTION_ENTRY_LEN * count as usize + 4;
    if bytes.len() < header_len {
        return Err(bad(
            bytes.len(),
            format!("file is truncated: {} bytes, the header alone needs {header_len}", bytes.len()),
        ));
    }

    let mut sections: Vec<Section> = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let at = FIXED_HEADER_LEN + SECTION_ENTRY_LEN * i;
        let kind = u32_at(bytes, at, "section kind")?;
        let name = section_name(kind);
        if u32_at(bytes, at + 4, "section reserved field")? != 0 {
            return Err(bad(at + 4, format!("{name} entry: reserved field is not zero")));
        }
        let offset = u64_at(bytes, at + 8, "section offset")?;
        let len = u64_at(bytes, at + 16, "section length")?;
        let end = offset.checked_add(len).filter(|&e| e <= bytes.len() as u64).ok_or_else(|| {
            bad(
                at + 8,
                format!(
                    "{name} (offset {offset}, length {len}) extends past the end of the file ({} bytes); \
                     the file is truncated or corrupted",
                    bytes.len()
                ),
            )
        })?;
        if offset < header_len as u64 {
            return Err(bad(at + 8, format!("{name} at offset {offset} overlaps the header ({header_len} bytes)")));
        }
        let known = matches!(kind, SECTION_GRAPH | SECTION_WEIGHTS | SECTION_METADATA);
        if !known && kind & SECTION_OPTIONAL_BIT == 0 {
            return Err(bad(
                at,
                format!("unknown required section kind {kind}; the file was written by a newer Ferrolite"),
            ));
        }
        if known && sections.iter().any(|s| s.kind == kind) {
            return Err(bad(at, format!("{name} section appears twice")));
        }
        // Both fit in usize: they are at most the length of a slice.
        sections.push(Section { kind, start: offset as usize, end: end as usize });
    }

    let mut by_start: Vec<(Section, usize)> = sections.iter().copied().zip(0..).collect();
    by_start.sort_by_key(|(s, _)| (s.start, s.end));
    for pair in by_start.windows(2) {
        let [(a, ia), (b, ib)] = pair else { continue };
        if b.start < a.end {
            return Err(bad(
                FIXED_HEADER_LEN + SECTION_ENTRY_LEN * ib + 8,
                format!(
                    "{} [{}, {}) overlaps {} [{}, {}) (table entry {ia})",
                    section_name(b.kind),
                    b.start,
                    b.end,
                    section_name(a.kind),
                    a.start,
                    a.end
                ),
            ));
        }
    }

    let header = Header { version, sections };
    if header.find(SECTION_GRAPH).is_none() {
        return Err(bad(16, "the file has no GRAPH section"));
    }
    if let Some(w) = header.find(SECTION_WEIGHTS)
        && !w.start.is_multiple_of(WEIGHT_ALIGN)
    {
        return Err(bad(w.start, format!("WEIGHTS section at offset {} is not {WEIGHT_ALIGN}-byte aligned", w.start)));
    }

    let crc_at = header_len - 4;
    let stored = u32_at(bytes, crc_at, "checksum")?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(bytes.get(..crc_at).unwrap_or_default());
    for s in header.sections.iter().filter(|s| s.kind != SECTION_WEIGHTS) {
        crc.update(bytes.get(s.start..s.end).unwrap_or_default());
    }
    let computed = crc.finalize();
    if computed != stored {
        return Err(bad(
            crc_at,
            format!(
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): \
                 the header, graph or metadata is corrupted"
            ),
        ));
    }
    Ok(header)
}

/// Reads postcard values one after another from a section, tracking file offsets.
struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// File offset of `bytes[0]`.
    base: usize,
}

impl<'a> Decoder<'a> {
    fn new(bytes: &'a [u8], base: usize) -> Self {
        Decoder { bytes, pos: 0, base }
    }

    /// File offset of the next value.
    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take<T: Deserialize<'a>>(&mut self, what: &str) -> Result<T> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        match postcard::take_from_bytes::<T>(rest) {
            Ok((value, tail)) => {
                self.pos = self.bytes.len() - tail.len();
                Ok(value)
            }
            Err(e) => Err(bad(self.offset(), format!("{what} is malformed: {}", describe(&e)))),
        }
    }

    /// A count of records that each take at least `min_bytes`, checked against what remains
    /// so no allocation is sized by an unchecked number.
    fn count(&mut self, what: &str, min_bytes: usize) -> Result<usize> {
        let at = self.offset();
        let n: u64 = self.take(what)?;
        let fits = (self.remaining() / min_bytes) as u64;
        if n > fits {
            return Err(bad(
                at,
                format!("{what} {n} cannot fit in the {} bytes left in the section", self.remaining()),
            ));
        }
        Ok(n as usize)
    }
}

fn describe(e: &postcard::Error) -> String {
    match e {
        postcard::Error::DeserializeUnexpectedEnd => "it runs past the end of its section".into(),
        postcard::Error::SerdeDeCustom => {
            "it holds a value this reader does not know (an unknown operator or enum tag)".into()
        }
        other => other.to_string(),
    }
}

/// The decoded graph with the file offset of every record, for error messages.
struct Decoded {
    graph: Graph,
    weights: Vec<StoredWeight>,
    tensor_offsets: Vec<usize>,
    node_offsets: Vec<usize>,
    inputs_offset: usize,
    outputs_offset: usize,
}

/// Turns a tensor record into a tensor, checking its weight window.
fn tensor_from_record(
    rec: TensorRecord,
    id: TensorId,
    at: usize,
    store: &Arc<dyn ByteStore>,
    weights: Section,
    stored: &mut Vec<StoredWeight>,
) -> Result<TensorInfo> {
    let label = || format!("tensor #{id} \"{}\"", rec.name);
    let dtype: DType = rec.dtype.into();
    let shape = match &rec.shape {
        Some(dims) => Some(
            dims.iter()
                .map(|d| d.to_ir())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| bad(at, format!("{}: {m}", label())))?,
        ),
        None => None,
    };
    let data = match rec.weights {
        None => None,
        Some(w) => {
            let numel = const_numel(shape.as_deref()).map_err(|m| bad(at, format!("{} {m}", label())))?;
            let expected = numel
                .checked_mul(dtype.size())
                .ok_or_else(|| bad(at, format!("{}: byte size of its shape overflows", label())))?;
            if w.len != expected as u64 {
                return Err(bad(
                    at,
                    format!(
                        "{}: stored length {} does not match its shape and {dtype} ({expected} bytes)",
                        label(),
                        w.len
                    ),
                ));
            }
            if !w.offset.is_multiple_of(WEIGHT_ALIGN as u64) {
                return Err(bad(
                    at,
                    format!("{}: weight offset {} is not {WEIGHT_ALIGN}-byte aligned", label(), w.offset),
                ));
            }
            let section_len = (weights.end - weights.start) as u64;
            let inside = w.offset.checked_add(w.len).is_some_and(|end| end <= section_len);
            if !inside {
                return Err(bad(
                    at,
                    format!(
                        "{}: weights [{}, +{}) lie outside the WEIGHTS section ({section_len} bytes)",
                        label(),
                        w.offset,
                        w.len
                    ),
                ));
            }
            // In range: offset + len <= section length, which fits in usize.
            let file_offset = weights.start + w.offset as usize;
            let data = ConstData::window(store.clone(), file_offset, expected)
                .ok_or_else(|| bad(at, format!("{}: weights lie outside the file", label())))?;
            stored.push(StoredWeight { tensor: id, offset: file_offset as u64, crc32: w.crc32, data: data.clone() });
            Some(data)
        }
    };
    Ok(TensorInfo { name: rec.name, dtype, shape, data })
}

fn decode_graph(store: &Arc<dyn ByteStore>, graph_sec: Section, weights: Section) -> Result<Decoded> {
    let bytes = store.bytes().get(graph_sec.start..graph_sec.end).unwrap_or_default();
    let mut d = Decoder::new(bytes, graph_sec.start);

    let n_tensors = d.count("tensor count", MIN_TENSOR_RECORD)?;
    let mut tensors = Vec::with_capacity(n_tensors);
    let mut tensor_offsets = Vec::with_capacity(n_tensors);
    let mut stored = Vec::new();
    for id in 0..n_tensors {
        let at = d.offset();
        let rec: TensorRecord = d.take(&format!("tensor record #{id}"))?;
        tensors.push(tensor_from_record(rec, id, at, store, weights, &mut stored)?);
        tensor_offsets.push(at);
    }

    let n_nodes = d.count("node count", MIN_NODE_RECORD)?;
    let mut nodes = Vec::with_capacity(n_nodes);
    let mut node_offsets = Vec::with_capacity(n_nodes);
    for id in 0..n_nodes {
        let at = d.offset();
        let NodeRecord { name, op, inputs, outputs } = d.take(&format!("node record #{id}"))?;
        let in_node = |m: String| bad(at, format!("node #{id} \"{name}\": {m}"));
        let op = op.into_ir().map_err(in_node)?;
        let inputs = inputs
            .iter()
            .map(|i| i.map(|t| records::r(t, "tensor id")).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(in_node)?;
        let outputs =
            outputs.iter().map(|&t| records::r(t, "tensor id")).collect::<Result<Vec<_>, _>>().map_err(in_node)?;
        nodes.push(Node { name, op, inputs, outputs });
        node_offsets.push(at);
    }

    let ids = |v: Vec<u64>, at: usize| {
        v.into_iter().map(|t| records::r(t, "tensor id")).collect::<Result<Vec<_>, _>>().map_err(|m| bad(at, m))
    };
    let inputs_offset = d.offset();
    let inputs = ids(d.take("graph input list")?, inputs_offset)?;
    let outputs_offset = d.offset();
    let outputs = ids(d.take("graph output list")?, outputs_offset)?;
    if d.remaining() != 0 {
        return Err(bad(d.offset(), format!("{} unexpected bytes after the graph records", d.remaining())));
    }
    Ok(Decoded {
        graph: Graph { tensors, nodes, inputs, outputs },
        weights: stored,
        tensor_offsets,
        node_offsets,
        inputs_offset,
        outputs_offset,
    })
}

fn decode_metadata(bytes: &[u8], sec: Option<Section>) -> Result<Metadata> {
    let Some(sec) = sec else { return Ok(Metadata::default()) };
    let mut d = Decoder::new(bytes.get(sec.start..sec.end).unwrap_or_default(), sec.start);
    let rec: MetadataRecord = d.take("metadata record")?;
    if d.remaining() != 0 {
        return Err(bad(d.offset(), format!("{} unexpected bytes after the metadata record", d.remaining())));
    }
    Ok(Metadata { producer: rec.producer, source: rec.source })
}

/// Parses a `.flm` file held in `store` (a memory map or an owned [`AlignedBytes`]
/// buffer). Constants become windows of `store`; weight bytes are not read (see
/// [`verify_weights`]).
///
/// The store's first byte must be 64-byte aligned (memory maps and [`AlignedBytes`] are),
/// so that aligned file offsets are aligned addresses.
///
/// [`AlignedBytes`]: crate::ir::AlignedBytes
pub fn read(store: Arc<dyn ByteStore>) -> Result<FlmFile> {
    let bytes = store.bytes();
    let header = parse_header(bytes)?;
    if !(bytes.as_ptr() as usize).is_multiple_of(WEIGHT_ALIGN) {
        return Err(Error::Unsupported(format!(
            "the buffer holding the .flm file is not {WEIGHT_ALIGN}-byte aligned; load it through a memory map or AlignedBytes"
        )));
    }
    let metadata = decode_metadata(bytes, header.find(SECTION_METADATA))?;
    let graph_sec = header.find(SECTION_GRAPH).ok_or_else(|| bad(16, "the file has no GRAPH section"))?;
    // A file without weights is read as if it had an empty WEIGHTS section at its end.
    let weights = header.find(SECTION_WEIGHTS).unwrap_or(Section { kind: SECTION_WEIGHTS, start: 0, end: 0 });
    let decoded = decode_graph(&store, graph_sec, weights)?;
    decoded.graph.check().map_err(|Invalid { culprit, msg }| {
        let at = match culprit {
            Culprit::Tensor(i) => decoded.tensor_offsets.get(i).copied(),
            Culprit::Node(i) => decoded.node_offsets.get(i).copied(),
            Culprit::Inputs => Some(decoded.inputs_offset),
            Culprit::Outputs => Some(decoded.outputs_offset),
        };
        bad(at.unwrap_or(graph_sec.start), format!("invalid graph: {msg}"))
    })?;
    Ok(FlmFile { graph: decoded.graph, metadata, format_version: header.version, weights: decoded.weights })
}

/// Memory-maps the `.flm` file at `path` and parses it with [`read`].
///
/// The file must not be modified or truncated while the returned graph (or anything holding
/// its constants) is alive: the weights are read in place from the mapping.
pub fn open(path: impl AsRef<Path>) -> Result<FlmFile> {
    let path = path.as_ref();
    let io = |source| Error::Io { path: path.display().to_string(), source };
    let file = File::open(path).map_err(io)?;
    // SAFETY: the map is read-only and all access goes through `&[u8]` slices checked
    // against its length. Mapping a file is sound as long as no one modifies or truncates
    // it while mapped; that is the documented contract of this function (model files are
    // immutable assets), the same one every memory-mapping model loader relies on.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    read(Arc::new(map))
}

/// Checks every constant against the CRC-32 recorded when the file was written. This reads
/// all the weights (loading does not); `ferrolite info --verify` calls it (through
/// `Model::verify_weights`). `weights` is [`FlmFile::weights`]; `graph` supplies the tensor
/// names for the message.
///
/// The error names every constant whose bytes are corrupted; its offset is that of the
/// first one.
pub fn verify_weights(graph: &Graph, weights: &[StoredWeight]) -> Result<()> {
    let mut corrupted = Vec::new();
    // Constants sharing a window are hashed once.
    let mut hashed: HashMap<(u64, usize), u32> = HashMap::new();
    for w in weights {
        let computed = *hashed.entry((w.offset, w.data.len())).or_insert_with(|| crc32fast::hash(w.data.bytes()));
        if computed != w.crc32 {
            corrupted.push((w, computed));
        }
    }
    let Some((first, _)) = corrupted.first() else { return Ok(()) };
    const SHOWN: usize = 8;
    let mut names: Vec<String> = corrupted
        .iter()
        .take(SHOWN)
        .map(|(w, computed)| {
            let name = graph.tensors.get(w.tensor).map_or("", |t| t.name.as_str());
            format!(
                "tensor #{} \"{name}\" ({} bytes at {}: stored CRC {:#010x}, computed {computed:#010x})",
                w.tensor,
                w.data.len(),
                w.offset,
                w.crc32
            )
        })
        .collect();
    if corrupted.len() > SHOWN {
        names.push(format!("and {} more", corrupted.len() - SHOWN));
    }
    Err(Error::Format {
        offset: first.offset,
        what: format!("weights of {} constant(s) are corrupted: {}", corrupted.len(), names.join(", ")),
    })
}

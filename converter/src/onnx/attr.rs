//! Typed access to a node's attributes. Every lookup is recorded, so that once a node is
//! converted, an attribute nobody asked for is reported instead of silently ignored.

use std::cell::Cell;

use super::proto::{AttributeProto, TensorProto, attribute_type as at};

/// The attributes of one node, with a record of which were read.
#[derive(Debug)]
pub(crate) struct Attrs<'a> {
    list: &'a [AttributeProto],
    used: Vec<Cell<bool>>,
}

/// What is wrong with an attribute: its name and the problem.
pub(crate) type AttrError = String;

fn type_name(t: i32) -> &'static str {
    match t {
        at::FLOAT => "FLOAT",
        at::INT => "INT",
        at::STRING => "STRING",
        at::TENSOR => "TENSOR",
        at::GRAPH => "GRAPH",
        at::FLOATS => "FLOATS",
        at::INTS => "INTS",
        at::STRINGS => "STRINGS",
        at::TENSORS => "TENSORS",
        at::GRAPHS => "GRAPHS",
        at::SPARSE_TENSOR => "SPARSE_TENSOR",
        at::SPARSE_TENSORS => "SPARSE_TENSORS",
        at::TYPE_PROTO => "TYPE_PROTO",
        at::TYPE_PROTOS => "TYPE_PROTOS",
        _ => "UNDEFINED",
    }
}

impl<'a> Attrs<'a> {
    /// Wraps a node's attribute list.
    pub fn new(list: &'a [AttributeProto]) -> Self {
        Attrs { list, used: list.iter().map(|_| Cell::new(false)).collect() }
    }

    /// The attribute called `name`, marked as read.
    fn find(&self, name: &str) -> Option<&'a AttributeProto> {
        let i = self.list.iter().position(|a| a.name.as_deref() == Some(name))?;
        if let Some(u) = self.used.get(i) {
            u.set(true);
        }
        self.list.get(i)
    }

    /// The attribute called `name` if present, checked to be of type `want`. Old models
    /// may leave `type` unset; then the value field decides.
    fn typed(&self, name: &str, want: i32) -> Result<Option<&'a AttributeProto>, AttrError> {
        let Some(a) = self.find(name) else { return Ok(None) };
        if a.ref_attr_name.is_some() {
            return Err(format!("attribute `{name}` refers to a function attribute, which is not supported"));
        }
        match a.r#type {
            Some(t) if t != want && t != at::UNDEFINED => {
                Err(format!("attribute `{name}` is {}, expected {}", type_name(t), type_name(want)))
            }
            _ => Ok(Some(a)),
        }
    }

    /// Whether the node has an attribute called `name` (marks it read).
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Marks attributes that do not affect inference as read.
    pub fn ignore(&self, names: &[&str]) {
        for n in names {
            self.find(n);
        }
    }

    /// An `INT` attribute.
    pub fn int(&self, name: &str) -> Result<Option<i64>, AttrError> {
        Ok(self.typed(name, at::INT)?.map(|a| a.i.unwrap_or(0)))
    }

    /// An `INT` attribute with a default.
    pub fn int_or(&self, name: &str, default: i64) -> Result<i64, AttrError> {
        Ok(self.int(name)?.unwrap_or(default))
    }

    /// An `INT` attribute used as a flag (0 or 1).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, AttrError> {
        match self.int(name)? {
            None => Ok(default),
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(v) => Err(format!("attribute `{name}` must be 0 or 1, got {v}")),
        }
    }

    /// A `FLOAT` attribute.
    pub fn float(&self, name: &str) -> Result<Option<f32>, AttrError> {
        Ok(self.typed(name, at::FLOAT)?.map(|a| a.f.unwrap_or(0.0)))
    }

    /// A `FLOAT` attribute with a default.
    pub fn float_or(&self, name: &str, default: f32) -> Result<f32, AttrError> {
        Ok(self.float(name)?.unwrap_or(default))
    }

    /// A `STRING` attribute (UTF-8).
    pub fn string(&self, name: &str) -> Result<Option<&'a str>, AttrError> {
        let Some(a) = self.typed(name, at::STRING)? else { return Ok(None) };
        let bytes = a.s.as_deref().unwrap_or_default();
        std::str::from_utf8(bytes).map(Some).map_err(|_| format!("attribute `{name}` is not UTF-8"))
    }

    /// A `STRING` attribute with a default.
    pub fn string_or(&self, name: &str, default: &'a str) -> Result<&'a str, AttrError> {
        Ok(self.string(name)?.unwrap_or(default))
    }

    /// An `INTS` attribute.
    pub fn ints(&self, name: &str) -> Result<Option<&'a [i64]>, AttrError> {
        Ok(self.typed(name, at::INTS)?.map(|a| a.ints.as_slice()))
    }

    /// A `FLOATS` attribute.
    pub fn floats(&self, name: &str) -> Result<Option<&'a [f32]>, AttrError> {
        Ok(self.typed(name, at::FLOATS)?.map(|a| a.floats.as_slice()))
    }

    /// A `TENSOR` attribute.
    pub fn tensor(&self, name: &str) -> Result<Option<&'a TensorProto>, AttrError> {
        match self.typed(name, at::TENSOR)? {
            None => Ok(None),
            Some(a) => a.t.as_ref().map(Some).ok_or_else(|| format!("attribute `{name}` has no tensor value")),
        }
    }

    /// The name of the first attribute that was never read, if any.
    pub fn first_unread(&self) -> Option<&'a str> {
        self.list.iter().zip(&self.used).find(|(_, u)| !u.get()).map(|(a, _)| a.name.as_deref().unwrap_or(""))
    }
}

//! Tensors as the API and the kernels see them: an owned [`Tensor`], and borrowed views
//! ([`TensorView`], [`TensorViewMut`]) over caller buffers, the activation arena or weights.
//!
//! Element data is little-endian and stored contiguously in row-major order. Every view's
//! byte length equals `shape.product() * dtype.size()`; constructors check it.

use crate::error::{Error, Result};
use crate::ir::{AlignedBytes, DType};

/// Number of elements of a shape (1 for a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Number of elements of a shape, or `None` on overflow (for shapes from untrusted input).
pub fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

fn check_len(dtype: DType, shape: &[usize], bytes: usize) -> Result<()> {
    let want = checked_numel(shape).and_then(|n| n.checked_mul(dtype.size()));
    if want != Some(bytes) {
        return Err(Error::Input(format!(
            "a {dtype} tensor of shape {shape:?} needs {} bytes, got {bytes}",
            want.map_or("too many".to_string(), |w| w.to_string())
        )));
    }
    Ok(())
}

/// Element types that can be viewed from tensor bytes.
pub trait Element: bytemuck::Pod {
    /// The matching [`DType`].
    const DTYPE: DType;
}
impl Element for f32 {
    const DTYPE: DType = DType::F32;
}
impl Element for i64 {
    const DTYPE: DType = DType::I64;
}
impl Element for i32 {
    const DTYPE: DType = DType::I32;
}
impl Element for u8 {
    const DTYPE: DType = DType::U8;
}
impl Element for i8 {
    const DTYPE: DType = DType::I8;
}

/// An owned tensor with 64-byte aligned storage.
#[derive(Clone)]
pub struct Tensor {
    dtype: DType,
    shape: Vec<usize>,
    data: AlignedBytes,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({} {:?})", self.dtype, self.shape)
    }
}

impl Tensor {
    /// A zero-filled tensor.
    pub fn zeros(dtype: DType, shape: &[usize]) -> Self {
        let len = numel(shape) * dtype.size();
        Tensor { dtype, shape: shape.to_vec(), data: AlignedBytes::zeroed(len) }
    }

    /// A tensor owning `data`; errors if its length does not match the shape.
    pub fn from_aligned(dtype: DType, shape: &[usize], data: AlignedBytes) -> Result<Self> {
        check_len(dtype, shape, data.len())?;
        Ok(Tensor { dtype, shape: shape.to_vec(), data })
    }

    /// A tensor from raw little-endian bytes; errors if the length does not match.
    pub fn from_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Self> {
        check_len(dtype, shape, bytes.len())?;
        Ok(Tensor { dtype, shape: shape.to_vec(), data: AlignedBytes::from_slice(bytes) })
    }

    /// A tensor from typed values; errors if the count does not match the shape.
    pub fn from_slice<T: Element>(shape: &[usize], values: &[T]) -> Result<Self> {
        Self::from_bytes(T::DTYPE, shape, bytemuck::cast_slice(values))
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Raw bytes.
    pub fn bytes(&self) -> &[u8] {
        self.data.as_slice()
    }

    /// Raw bytes, mutable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.data.as_mut_slice()
    }

    /// The elements, if `T` is the tensor's type.
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        self.view().as_slice()
    }

    /// The elements, mutable, if `T` is the tensor's type.
    pub fn as_mut_slice<T: Element>(&mut self) -> Result<&mut [T]> {
        if self.dtype != T::DTYPE {
            return Err(Error::Input(format!("tensor is {}, not {}", self.dtype, T::DTYPE)));
        }
        bytemuck::try_cast_slice_mut(self.data.as_mut_slice()).map_err(|e| Error::Input(format!("bad tensor bytes: {e}")))
    }

    /// A borrowed view.
    pub fn view(&self) -> TensorView<'_> {
        TensorView { dtype: self.dtype, shape: &self.shape, bytes: self.data.as_slice() }
    }

    /// A mutable borrowed view.
    pub fn view_mut(&mut self) -> TensorViewMut<'_> {
        TensorViewMut { dtype: self.dtype, shape: &self.shape, bytes: self.data.as_mut_slice() }
    }

    /// Changes the shape, keeping the bytes; errors if the element count differs.
    pub fn reshape(mut self, shape: &[usize]) -> Result<Self> {
        check_len(self.dtype, shape, self.data.len())?;
        self.shape = shape.to_vec();
        Ok(self)
    }
}

/// A borrowed, read-only tensor.
#[derive(Debug, Clone, Copy)]
pub struct TensorView<'a> {
    dtype: DType,
    shape: &'a [usize],
    bytes: &'a [u8],
}

impl<'a> TensorView<'a> {
    /// A view over raw bytes; errors if the length does not match.
    pub fn new(dtype: DType, shape: &'a [usize], bytes: &'a [u8]) -> Result<Self> {
        check_len(dtype, shape, bytes.len())?;
        Ok(TensorView { dtype, shape, bytes })
    }

    /// A view over typed values; errors if the count does not match the shape.
    pub fn from_slice<T: Element>(shape: &'a [usize], values: &'a [T]) -> Result<Self> {
        Self::new(T::DTYPE, shape, bytemuck::cast_slice(values))
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Shape.
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(self.shape)
    }

    /// Raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The elements, if `T` is the view's type and the bytes are aligned for it.
    pub fn as_slice<T: Element>(&self) -> Result<&'a [T]> {
        if self.dtype != T::DTYPE {
            return Err(Error::Input(format!("tensor is {}, not {}", self.dtype, T::DTYPE)));
        }
        bytemuck::try_cast_slice(self.bytes).map_err(|e| Error::Input(format!("bad tensor bytes: {e}")))
    }

    /// Shorthand for `as_slice::<f32>()`.
    pub fn f32(&self) -> Result<&'a [f32]> {
        self.as_slice()
    }

    /// Copies into an owned tensor.
    pub fn to_tensor(&self) -> Tensor {
        Tensor { dtype: self.dtype, shape: self.shape.to_vec(), data: AlignedBytes::from_slice(self.bytes) }
    }

    /// Integer elements widened to `i64` (for shape math on i64/i32 tensors).
    pub fn to_i64_vec(&self) -> Result<Vec<i64>> {
        match self.dtype {
            DType::I64 => Ok(self.as_slice::<i64>()?.to_vec()),
            DType::I32 => Ok(self.as_slice::<i32>()?.iter().map(|&v| v as i64).collect()),
            other => Err(Error::Input(format!("expected an integer tensor, got {other}"))),
        }
    }
}

/// A borrowed, writable tensor.
#[derive(Debug)]
pub struct TensorViewMut<'a> {
    dtype: DType,
    shape: &'a [usize],
    bytes: &'a mut [u8],
}

impl<'a> TensorViewMut<'a> {
    /// A view over raw bytes; errors if the length does not match.
    pub fn new(dtype: DType, shape: &'a [usize], bytes: &'a mut [u8]) -> Result<Self> {
        check_len(dtype, shape, bytes.len())?;
        Ok(TensorViewMut { dtype, shape, bytes })
    }

    /// A view over typed values; errors if the count does not match the shape.
    pub fn from_slice<T: Element>(shape: &'a [usize], values: &'a mut [T]) -> Result<Self> {
        Self::new(T::DTYPE, shape, bytemuck::cast_slice_mut(values))
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Shape.
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(self.shape)
    }

    /// Raw bytes.
    pub fn bytes(&self) -> &[u8] {
        self.bytes
    }

    /// Raw bytes, mutable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes
    }

    /// The elements, mutable, if `T` is the view's type.
    pub fn as_mut_slice<T: Element>(&mut self) -> Result<&mut [T]> {
        if self.dtype != T::DTYPE {
            return Err(Error::Input(format!("tensor is {}, not {}", self.dtype, T::DTYPE)));
        }
        bytemuck::try_cast_slice_mut(self.bytes).map_err(|e| Error::Input(format!("bad tensor bytes: {e}")))
    }

    /// Shorthand for `as_mut_slice::<f32>()`.
    pub fn f32_mut(&mut self) -> Result<&mut [f32]> {
        self.as_mut_slice()
    }

    /// A read-only view of the same bytes.
    pub fn as_view(&self) -> TensorView<'_> {
        TensorView { dtype: self.dtype, shape: self.shape, bytes: self.bytes }
    }
}

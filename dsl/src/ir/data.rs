use std::fmt;
use std::sync::Arc;

/// One 64-byte, 64-aligned block: the unit of [`AlignedBytes`].
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
pub struct Block64(pub [u8; 64]);

/// An owned byte buffer whose start is 64-byte aligned, so it can be viewed as `&[f32]`,
/// `&[i64]`, ... without copying, and so SIMD loads of packed weights are aligned.
#[derive(Clone, Default)]
pub struct AlignedBytes {
    blocks: Vec<Block64>,
    len: usize,
}

impl AlignedBytes {
    /// A zeroed buffer of `len` bytes.
    pub fn zeroed(len: usize) -> Self {
        AlignedBytes { blocks: vec![Block64([0; 64]); len.div_ceil(64)], len }
    }

    /// A zeroed buffer of `len` bytes, or `None` if the memory cannot be had. Used where the
    /// size comes from a model file, so a hostile size is an error instead of an abort.
    pub fn try_zeroed(len: usize) -> Option<Self> {
        let mut blocks = Vec::new();
        blocks.try_reserve_exact(len.div_ceil(64)).ok()?;
        blocks.resize(len.div_ceil(64), Block64([0; 64]));
        Some(AlignedBytes { blocks, len })
    }

    /// Copies `bytes` into a new aligned buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut b = Self::zeroed(bytes.len());
        b.as_mut_slice().copy_from_slice(bytes);
        b
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &bytemuck::cast_slice::<Block64, u8>(&self.blocks)[..self.len]
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut bytemuck::cast_slice_mut::<Block64, u8>(&mut self.blocks)[..len]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for AlignedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlignedBytes({} bytes)", self.len)
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

/// Where the bytes of constants live: an owned aligned buffer or a memory-mapped file.
pub trait ByteStore: Send + Sync + 'static {
    /// The whole store.
    fn bytes(&self) -> &[u8];
}

impl ByteStore for AlignedBytes {
    fn bytes(&self) -> &[u8] {
        self.as_slice()
    }
}

impl ByteStore for memmap2::Mmap {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// The bytes of a constant tensor: a window `[offset, offset + len)` of a shared store.
///
/// Cloning is cheap (an `Arc` bump). The window was bounds-checked when it was made, so
/// [`ConstData::bytes`] never panics.
#[derive(Clone)]
pub struct ConstData {
    store: Arc<dyn ByteStore>,
    offset: usize,
    len: usize,
}

impl ConstData {
    /// Wraps a whole owned buffer.
    pub fn owned(bytes: AlignedBytes) -> Self {
        let len = bytes.len();
        ConstData { store: Arc::new(bytes), offset: 0, len }
    }

    /// A window of a shared store; `None` when the window does not lie inside the store.
    pub fn window(store: Arc<dyn ByteStore>, offset: usize, len: usize) -> Option<Self> {
        let end = offset.checked_add(len)?;
        if end > store.bytes().len() {
            return None;
        }
        Some(ConstData { store, offset, len })
    }

    /// Copies raw little-endian bytes into a new owned constant.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self::owned(AlignedBytes::from_slice(bytes))
    }

    /// A new owned constant holding `values`.
    pub fn from_f32(values: &[f32]) -> Self {
        Self::from_bytes(bytemuck::cast_slice(values))
    }

    /// A new owned constant holding `values`.
    pub fn from_i64(values: &[i64]) -> Self {
        Self::from_bytes(bytemuck::cast_slice(values))
    }

    /// A new owned constant holding `values`.
    pub fn from_i32(values: &[i32]) -> Self {
        Self::from_bytes(bytemuck::cast_slice(values))
    }

    /// The raw bytes (little-endian elements).
    pub fn bytes(&self) -> &[u8] {
        &self.store.bytes()[self.offset..self.offset + self.len]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes viewed as `f32`, or `None` if the length or alignment does not allow it.
    pub fn as_f32(&self) -> Option<&[f32]> {
        bytemuck::try_cast_slice(self.bytes()).ok()
    }

    /// The bytes viewed as `i64`, or `None` if the length or alignment does not allow it.
    pub fn as_i64(&self) -> Option<&[i64]> {
        bytemuck::try_cast_slice(self.bytes()).ok()
    }

    /// The bytes viewed as `i32`, or `None` if the length or alignment does not allow it.
    pub fn as_i32(&self) -> Option<&[i32]> {
        bytemuck::try_cast_slice(self.bytes()).ok()
    }

    /// Whether two handles share the same store (used to keep mapped weights mapped).
    pub fn same_store(&self, other: &ConstData) -> bool {
        Arc::ptr_eq(&self.store, &other.store)
    }
}

impl fmt::Debug for ConstData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConstData({} bytes at {})", self.len, self.offset)
    }
}

//! `TensorProto` to Ferrolite constants: element types, shapes and data, every size checked
//! against the bytes actually present before anything is allocated.

use ferrolite_runtime::Tensor;
use ferrolite_runtime::ir::{AlignedBytes, ConstData, DType, Dim};

use super::proto::{DATA_LOCATION_EXTERNAL, DimensionValue, TensorProto, TypeProto, data_type};
use crate::{ConvertError, Result};

/// The Ferrolite element type of an ONNX data type, or `None` if Ferrolite has none.
pub(crate) fn dtype_from_onnx(t: i32) -> Option<DType> {
    Some(match t {
        data_type::FLOAT => DType::F32,
        data_type::FLOAT16 => DType::F16,
        data_type::INT8 => DType::I8,
        data_type::UINT8 => DType::U8,
        data_type::INT32 => DType::I32,
        data_type::INT64 => DType::I64,
        data_type::BOOL => DType::Bool,
        _ => return None,
    })
}

/// A decoded constant: element type, shape and little-endian data.
#[derive(Debug, Clone)]
pub(crate) struct ConstTensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: ConstData,
}

fn invalid(what: &str, msg: impl std::fmt::Display) -> ConvertError {
    ConvertError::Invalid { format: "ONNX", msg: format!("{what}: {msg}") }
}

/// Converts ONNX dims to a checked shape and its element count.
pub(crate) fn checked_shape(dims: &[i64], what: &str) -> Result<(Vec<usize>, usize)> {
    let mut shape = Vec::with_capacity(dims.len());
    let mut count: usize = 1;
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| invalid(what, format!("negative dimension {d} in shape {dims:?}")))?;
        count = count.checked_mul(d).ok_or_else(|| invalid(what, format!("shape {dims:?} has too many elements")))?;
        shape.push(d);
    }
    Ok((shape, count))
}

/// Decodes the value of `t`, named `what` in messages (`initializer "conv1.weight"`).
///
/// Supports `raw_data` and the typed fields (`float_data`, `int32_data`, `int64_data`) for
/// the element types of [`dtype_from_onnx`]. External data and other element types are
/// errors. The element count from `dims` must match the data exactly.
pub(crate) fn decode(t: &TensorProto, what: &str) -> Result<ConstTensor> {
    if !t.external_data.is_empty() || t.data_location == Some(DATA_LOCATION_EXTERNAL) {
        let location = t
            .external_data
            .iter()
            .find(|e| e.key.as_deref() == Some("location"))
            .and_then(|e| e.value.clone())
            .unwrap_or_default();
        return Err(ConvertError::Unsupported {
            format: "ONNX",
            op: "initializer".into(),
            node: what.to_string(),
            detail: format!(
                "the tensor's data is stored in an external file ({location:?}); Ferrolite reads \
                 self-contained models only: re-save the model with its weights inside \
                 (onnx.save_model(model, path, save_as_external_data=False))"
            ),
        });
    }
    let onnx_type = t.data_type.unwrap_or(data_type::UNDEFINED);
    let dtype = dtype_from_onnx(onnx_type).ok_or_else(|| ConvertError::Unsupported {
        format: "ONNX",
        op: "initializer".into(),
        node: what.to_string(),
        detail: format!("element type {} is not supported", data_type::name(onnx_type)),
    })?;
    let (shape, count) = checked_shape(&t.dims, what)?;
    let nbytes = count.checked_mul(dtype.size()).ok_or_else(|| invalid(what, "tensor too large"))?;

    let typed_len = t.float_data.len() + t.int32_data.len() + t.int64_data.len() + t.double_data.len() + t.uint64_data.len();
    // Some writers leave an empty raw_data next to typed data.
    if let Some(raw) = t.raw_data.as_ref().filter(|r| !r.is_empty() || typed_len == 0) {
        if typed_len != 0 {
            return Err(invalid(what, "both raw_data and typed data are set"));
        }
        if raw.len() != nbytes {
            return Err(invalid(
                what,
                format!("raw_data holds {} bytes, but a {dtype} tensor of shape {shape:?} needs {nbytes}", raw.len()),
            ));
        }
        if dtype == DType::Bool {
            // Ferrolite's bools are 0 or 1; a file may hold any non-zero byte for true.
            let normalized: Vec<u8> = raw.iter().map(|&b| u8::from(b != 0)).collect();
            return Ok(ConstTensor { dtype, shape, data: ConstData::from_bytes(&normalized) });
        }
        return Ok(ConstTensor { dtype, shape, data: ConstData::from_bytes(raw) });
    }

    let check_count = |field: &str, n: usize| {
        if n != count {
            Err(invalid(what, format!("{field} holds {n} values, but shape {shape:?} needs {count}")))
        } else {
            Ok(())
        }
    };
    let data = match dtype {
        DType::F32 => {
            check_count("float_data", t.float_data.len())?;
            ConstData::from_f32(&t.float_data)
        }
        DType::I64 => {
            check_count("int64_data", t.int64_data.len())?;
            ConstData::from_i64(&t.int64_data)
        }
        DType::I32 => {
            check_count("int32_data", t.int32_data.len())?;
            ConstData::from_i32(&t.int32_data)
        }
        DType::F16 | DType::I8 | DType::U8 | DType::Bool => {
            // These narrow types are stored one per int32 element.
            check_count("int32_data", t.int32_data.len())?;
            let mut bytes = AlignedBytes::zeroed(nbytes);
            let out = bytes.as_mut_slice();
            for (i, &v) in t.int32_data.iter().enumerate() {
                let range_err = || invalid(what, format!("int32_data value {v} does not fit {dtype}"));
                match dtype {
                    DType::F16 => {
                        let bits = u16::try_from(v).map_err(|_| range_err())?;
                        out[2 * i..2 * i + 2].copy_from_slice(&bits.to_le_bytes());
                    }
                    DType::I8 => out[i] = i8::try_from(v).map_err(|_| range_err())? as u8,
                    DType::U8 => out[i] = u8::try_from(v).map_err(|_| range_err())?,
                    _ => out[i] = u8::from(v != 0),
                }
            }
            ConstData::owned(bytes)
        }
    };
    Ok(ConstTensor { dtype, shape, data })
}

/// Decodes a serialized `TensorProto` (such as the `input_0.pb` / `output_0.pb` files of
/// ONNX test data) into a runtime tensor.
pub fn decode_tensor(bytes: &[u8]) -> Result<Tensor> {
    let proto = super::proto::decode_tensor(bytes)
        .map_err(|e| ConvertError::Parse { format: "ONNX", msg: format!("TensorProto: {e}") })?;
    tensor_from_proto(&proto)
}

/// Converts a decoded `TensorProto` into a runtime tensor (same rules as initializers).
pub fn tensor_from_proto(proto: &TensorProto) -> Result<Tensor> {
    let what = format!("tensor \"{}\"", proto.name.as_deref().unwrap_or(""));
    let c = decode(proto, &what)?;
    Ok(Tensor::from_bytes(c.dtype, &c.shape, c.data.bytes())?)
}

/// The declared element type of a value (`None` when not given). `kind` and `name` say
/// which value, for the error on a type Ferrolite does not have (`graph input`, `x`).
pub(crate) fn declared_dtype(ty: Option<&TypeProto>, kind: &str, name: &str) -> Result<Option<DType>> {
    match ty.and_then(|t| t.tensor_type.as_ref()).and_then(|t| t.elem_type) {
        None | Some(data_type::UNDEFINED) => Ok(None),
        Some(t) => dtype_from_onnx(t).map(Some).ok_or_else(|| ConvertError::Unsupported {
            format: "ONNX",
            op: kind.to_string(),
            node: name.to_string(),
            detail: format!("element type {} is not supported", data_type::name(t)),
        }),
    }
}

/// The declared shape of a value: `None` when even the rank is unknown; a named symbolic
/// dim becomes [`Dim::Sym`] with its name, an unknown one `Dim::Sym("?")`.
pub(crate) fn declared_shape(ty: Option<&TypeProto>) -> Option<Vec<Dim>> {
    let shape = ty?.tensor_type.as_ref()?.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| match &d.value {
                // Some exporters write -1 for "unknown"; any negative size is taken so.
                Some(DimensionValue::DimValue(v)) => usize::try_from(*v).map_or_else(|_| Dim::Sym("?".into()), Dim::Fixed),
                Some(DimensionValue::DimParam(p)) if !p.is_empty() => Dim::Sym(p.clone()),
                _ => Dim::Sym("?".into()),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(dtype: i32, dims: &[i64]) -> TensorProto {
        TensorProto { data_type: Some(dtype), dims: dims.to_vec(), ..Default::default() }
    }

    #[test]
    fn float_data_and_raw_data_agree() {
        let mut a = tensor(data_type::FLOAT, &[2, 2]);
        a.float_data = vec![1.0, -2.0, 3.5, 0.25];
        let mut b = tensor(data_type::FLOAT, &[2, 2]);
        b.raw_data = Some([1.0f32, -2.0, 3.5, 0.25].iter().flat_map(|v| v.to_le_bytes()).collect());
        let (a, b) = (decode(&a, "a").unwrap(), decode(&b, "b").unwrap());
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data.as_f32().unwrap(), &[1.0, -2.0, 3.5, 0.25]);
        assert_eq!(a.data.bytes(), b.data.bytes());
    }

    #[test]
    fn narrow_types_come_from_int32_data() {
        let mut h = tensor(data_type::FLOAT16, &[2]);
        h.int32_data = vec![0x3c00, 0xc000]; // 1.0, -2.0
        let h = decode(&h, "h").unwrap();
        assert_eq!(h.dtype, DType::F16);
        assert_eq!(h.data.bytes(), &[0x00, 0x3c, 0x00, 0xc0]);

        let mut i8t = tensor(data_type::INT8, &[3]);
        i8t.int32_data = vec![-128, 0, 127];
        assert_eq!(decode(&i8t, "i8").unwrap().data.bytes(), &[0x80, 0, 127]);

        let mut bad = tensor(data_type::UINT8, &[1]);
        bad.int32_data = vec![256];
        assert!(decode(&bad, "u8").unwrap_err().to_string().contains("does not fit"));
    }

    #[test]
    fn raw_bools_are_normalized() {
        let mut b = tensor(data_type::BOOL, &[3]);
        b.raw_data = Some(vec![0, 1, 7]);
        assert_eq!(decode(&b, "b").unwrap().data.bytes(), &[0, 1, 1]);
    }

    #[test]
    fn scalar_and_empty_tensors() {
        let mut s = tensor(data_type::INT64, &[]);
        s.int64_data = vec![7];
        let s = decode(&s, "s").unwrap();
        assert!(s.shape.is_empty());
        assert_eq!(s.data.as_i64().unwrap(), &[7]);
        let e = decode(&tensor(data_type::FLOAT, &[0, 3]), "e").unwrap();
        assert_eq!(e.shape, vec![0, 3]);
        assert!(e.data.is_empty());
    }

    #[test]
    fn sizes_are_checked_against_the_data() {
        let mut t = tensor(data_type::FLOAT, &[2, 3]);
        t.float_data = vec![0.0; 5];
        let msg = decode(&t, "initializer \"w\"").unwrap_err().to_string();
        assert!(msg.contains("initializer \"w\"") && msg.contains("needs 6"), "{msg}");

        let mut t = tensor(data_type::FLOAT, &[1 << 40, 1 << 40]);
        t.raw_data = Some(vec![0; 16]);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("too many elements"));

        let mut t = tensor(data_type::INT64, &[i64::MAX / 2]);
        t.raw_data = Some(vec![0; 16]);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("too large"));

        let mut t = tensor(data_type::FLOAT, &[-1]);
        t.raw_data = Some(vec![]);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("negative dimension"));

        let mut t = tensor(data_type::FLOAT, &[1]);
        t.raw_data = Some(vec![0; 4]);
        t.float_data = vec![1.0];
        assert!(decode(&t, "w").unwrap_err().to_string().contains("both raw_data"));
    }

    #[test]
    fn external_data_and_unknown_types_are_rejected() {
        let mut t = tensor(data_type::FLOAT, &[4]);
        t.data_location = Some(DATA_LOCATION_EXTERNAL);
        t.external_data = vec![super::super::proto::StringStringEntryProto {
            key: Some("location".into()),
            value: Some("weights.bin".into()),
        }];
        let msg = decode(&t, "initializer \"w\"").unwrap_err().to_string();
        assert!(msg.contains("external file") && msg.contains("weights.bin"), "{msg}");

        let msg = decode(&tensor(data_type::DOUBLE, &[1]), "initializer \"d\"").unwrap_err().to_string();
        assert!(msg.contains("DOUBLE"), "{msg}");
    }

    #[test]
    fn serialized_tensor_round_trip_and_garbage() {
        use prost::Message;
        let mut t = tensor(data_type::INT32, &[3]);
        t.int32_data = vec![1, -2, 3];
        let decoded = decode_tensor(&t.encode_to_vec()).unwrap();
        assert_eq!(decoded.shape(), &[3]);
        assert_eq!(decoded.as_slice::<i32>().unwrap(), &[1, -2, 3]);

        let bytes = t.encode_to_vec();
        assert!(decode_tensor(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_tensor(&[0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}

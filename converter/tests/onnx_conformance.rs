//! ONNX's own backend conformance cases, run end to end: parse `model.onnx`, import,
//! optimize, plan and run a [`Session`], and compare with the expected `output_K.pb`
//! (computed by ONNX's reference implementation) within rtol 1e-3, atol 1e-5 (exact for
//! integer and bool outputs).
//!
//! Case sets:
//! - node cases: every case of onnx==1.22.0 whose model uses only operators the importer
//!   supports, as listed in `scripts/onnx-node-cases.txt` (made by
//!   `scripts/select-onnx-node-cases.py`), from `.cache/onnx-node-tests`, else
//!   `../shared/onnx-node-tests` next to the workspace. `$FERROLITE_ONNX_NODE_TESTS`
//!   runs every case folder of another directory instead (for exploring);
//! - op fixtures: `testdata/onnx-op-fixtures`, single-operator models in the same format
//!   for forms the node cases leave out, recorded from onnxruntime by
//!   `scripts/record_op_fixtures.py`;
//! - the multi-node PyTorch exports: `$FERROLITE_ONNX_PYTORCH_TESTS`, else
//!   `.cache/onnx-pytorch-tests` (`pytorch-converted/`, `pytorch-operator/`).
//!
//! `./scripts/fetch-onnx-tests.sh` fills `.cache/` from the onnx wheels on PyPI.
//! `FERROLITE_ONNX_CASE=substring` runs only the matching cases (for debugging).
//!
//! Every case must pass, except those in [`OUT_OF_SCOPE`], which must fail: a listed case
//! that passes fails the test too, and so does a listed name that matches no case, so the
//! list stays honest.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrolite_converter::onnx::{self, proto};
use ferrolite_runtime::ir::DType;
use ferrolite_runtime::{Model, Session, SessionOptions, Tensor};

const RTOL: f32 = 1e-3;
const ATOL: f32 = 1e-5;

const SPATIAL_3D: &str = "3-D convolution / pooling: Ferrolite's spatial operators are 1-D and 2-D";
const WIDE_INTS: &str = "16-bit and unsigned 32/64-bit integer tensors: no such element types in Ferrolite";
const INT8_MATH: &str = "arithmetic on int8/uint8 tensors: 8-bit types are reserved for quantized weights";
const FLOAT64: &str = "float64 tensors: Ferrolite computes in f32";
const FLOAT16: &str = "float16 tensors: Ferrolite computes in f32 (float16 is accepted for weights only)";
const NARROW_TYPES: &str =
    "bfloat16, 8-bit and 4-bit float, 4-bit and 2-bit integer tensors: no such element types in Ferrolite";
const STRINGS: &str = "string tensors: no such element type in Ferrolite";
const INT_POW: &str = "Pow on integer tensors: Ferrolite's Pow is defined on f32";
const BOOL_REDUCE: &str = "ReduceMax / ReduceMin of bool tensors: Ferrolite reduces f32 and integer tensors";
const SEQUENCES: &str = "sequence and optional values: Ferrolite's values are tensors";
const QUANTIZED_CONV: &str = "ConvInteger / QLinearConv: quantized operators are not implemented yet";
const TRAINING: &str =
    "training mode (BatchNormalization's batch statistics, random Dropout): Ferrolite runs inference only";
const INDICES: &str = "MaxPool's Indices output: not implemented";
const DATA_DEPENDENT: &str =
    "output shapes that depend on input values (a window length, a crop size): Ferrolite plans shapes before running";
const OLD_OPSET: &str = "opset-1 models: Ferrolite reads default-domain opsets 6 and later";
const NO_OP: &str = "operator outside Ferrolite's operator set";

/// Cases Ferrolite does not aim to pass, grouped by reason; each must fail. The names are
/// those of the case folders (node, op-fixtures, pytorch-converted and pytorch-operator
/// alike).
const OUT_OF_SCOPE: &[(&str, &str)] = &[
    ("test_AvgPool3d", SPATIAL_3D),
    ("test_AvgPool3d_stride", SPATIAL_3D),
    ("test_AvgPool3d_stride1_pad0_gpu_input", SPATIAL_3D),
    ("test_Conv3d", SPATIAL_3D),
    ("test_Conv3d_dilated", SPATIAL_3D),
    ("test_Conv3d_dilated_strided", SPATIAL_3D),
    ("test_Conv3d_groups", SPATIAL_3D),
    ("test_Conv3d_no_bias", SPATIAL_3D),
    ("test_Conv3d_stride", SPATIAL_3D),
    ("test_Conv3d_stride_padding", SPATIAL_3D),
    ("test_MaxPool3d", SPATIAL_3D),
    ("test_MaxPool3d_stride", SPATIAL_3D),
    ("test_MaxPool3d_stride_padding", SPATIAL_3D),
    ("test_averagepool_3d_default", SPATIAL_3D),
    ("test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False", SPATIAL_3D),
    ("test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True", SPATIAL_3D),
    ("test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False", SPATIAL_3D),
    ("test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True", SPATIAL_3D),
    ("test_averagepool_3d_dilations_small", SPATIAL_3D),
    ("test_convtranspose_3d", SPATIAL_3D),
    ("test_maxpool_3d_default", SPATIAL_3D),
    ("test_maxpool_3d_dilations", SPATIAL_3D),
    ("test_maxpool_3d_dilations_use_ref_impl", SPATIAL_3D),
    ("test_maxpool_3d_dilations_use_ref_impl_large", SPATIAL_3D),

    ("test_add_int16", WIDE_INTS),
    ("test_add_uint16", WIDE_INTS),
    ("test_add_uint32", WIDE_INTS),
    ("test_add_uint64", WIDE_INTS),
    ("test_div_int16", WIDE_INTS),
    ("test_div_uint16", WIDE_INTS),
    ("test_div_uint32", WIDE_INTS),
    ("test_div_uint64", WIDE_INTS),
    ("test_equal_int16", WIDE_INTS),
    ("test_equal_uint16", WIDE_INTS),
    ("test_equal_uint32", WIDE_INTS),
    ("test_equal_uint64", WIDE_INTS),
    ("test_greater_equal_int16", WIDE_INTS),
    ("test_greater_equal_int16_expanded", WIDE_INTS),
    ("test_greater_equal_uint16", WIDE_INTS),
    ("test_greater_equal_uint16_expanded", WIDE_INTS),
    ("test_greater_equal_uint32", WIDE_INTS),
    ("test_greater_equal_uint32_expanded", WIDE_INTS),
    ("test_greater_equal_uint64", WIDE_INTS),
    ("test_greater_equal_uint64_expanded", WIDE_INTS),
    ("test_greater_int16", WIDE_INTS),
    ("test_greater_uint16", WIDE_INTS),
    ("test_greater_uint32", WIDE_INTS),
    ("test_greater_uint64", WIDE_INTS),
    ("test_less_equal_int16", WIDE_INTS),
    ("test_less_equal_int16_expanded", WIDE_INTS),
    ("test_less_equal_uint16", WIDE_INTS),
    ("test_less_equal_uint16_expanded", WIDE_INTS),
    ("test_less_equal_uint32", WIDE_INTS),
    ("test_less_equal_uint32_expanded", WIDE_INTS),
    ("test_less_equal_uint64", WIDE_INTS),
    ("test_less_equal_uint64_expanded", WIDE_INTS),
    ("test_less_int16", WIDE_INTS),
    ("test_less_uint16", WIDE_INTS),
    ("test_less_uint32", WIDE_INTS),
    ("test_less_uint64", WIDE_INTS),
    ("test_max_int16", WIDE_INTS),
    ("test_max_uint16", WIDE_INTS),
    ("test_max_uint32", WIDE_INTS),
    ("test_max_uint64", WIDE_INTS),
    ("test_min_int16", WIDE_INTS),
    ("test_min_uint16", WIDE_INTS),
    ("test_min_uint32", WIDE_INTS),
    ("test_min_uint64", WIDE_INTS),
    ("test_mul_int16", WIDE_INTS),
    ("test_mul_uint16", WIDE_INTS),
    ("test_mul_uint32", WIDE_INTS),
    ("test_mul_uint64", WIDE_INTS),
    ("test_pow_types_float32_uint32", WIDE_INTS),
    ("test_pow_types_float32_uint64", WIDE_INTS),
    ("test_sub_int16", WIDE_INTS),
    ("test_sub_uint16", WIDE_INTS),
    ("test_sub_uint32", WIDE_INTS),
    ("test_sub_uint64", WIDE_INTS),

    ("test_add_int8", INT8_MATH),
    ("test_add_uint8", INT8_MATH),
    ("test_clip_default_int8_max", INT8_MATH),
    ("test_clip_default_int8_max_expanded", INT8_MATH),
    ("test_clip_default_int8_min", INT8_MATH),
    ("test_clip_default_int8_min_expanded", INT8_MATH),
    ("test_div_int8", INT8_MATH),
    ("test_div_uint8", INT8_MATH),
    ("test_equal_int8", INT8_MATH),
    ("test_equal_uint8", INT8_MATH),
    ("test_greater_equal_int8", INT8_MATH),
    ("test_greater_equal_int8_expanded", INT8_MATH),
    ("test_greater_equal_uint8", INT8_MATH),
    ("test_greater_equal_uint8_expanded", INT8_MATH),
    ("test_greater_int8", INT8_MATH),
    ("test_greater_uint8", INT8_MATH),
    ("test_less_equal_int8", INT8_MATH),
    ("test_less_equal_int8_expanded", INT8_MATH),
    ("test_less_equal_uint8", INT8_MATH),
    ("test_less_equal_uint8_expanded", INT8_MATH),
    ("test_less_int8", INT8_MATH),
    ("test_less_uint8", INT8_MATH),
    ("test_max_int8", INT8_MATH),
    ("test_max_uint8", INT8_MATH),
    ("test_maxpool_2d_uint8", INT8_MATH),
    ("test_min_int8", INT8_MATH),
    ("test_min_uint8", INT8_MATH),
    ("test_mul_int8", INT8_MATH),
    ("test_mul_uint8", INT8_MATH),
    ("test_sub_int8", INT8_MATH),
    ("test_sub_uint8", INT8_MATH),

    ("test_cast_DOUBLE_to_FLOAT", FLOAT64),
    ("test_cast_FLOAT_to_DOUBLE", FLOAT64),
    ("test_castlike_DOUBLE_to_FLOAT", FLOAT64),
    ("test_castlike_DOUBLE_to_FLOAT_expanded", FLOAT64),
    ("test_castlike_FLOAT_to_DOUBLE", FLOAT64),
    ("test_castlike_FLOAT_to_DOUBLE_expanded", FLOAT64),
    ("test_flexattention_double_expanded_ver26", FLOAT64),
    ("test_max_float64", FLOAT64),
    ("test_min_float64", FLOAT64),
    ("test_operator_add_broadcast", FLOAT64),
    ("test_operator_add_size1_broadcast", FLOAT64),
    ("test_operator_add_size1_right_broadcast", FLOAT64),
    ("test_operator_add_size1_singleton_broadcast", FLOAT64),
    ("test_operator_addconstant", FLOAT64),
    ("test_reduce_log_sum_exp_default_axes_keepdims_example_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_default_axes_keepdims_random_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_do_not_keepdims_example_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_do_not_keepdims_random_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_empty_set_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_keepdims_example_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_keepdims_random_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_negative_axes_keepdims_example_expanded", FLOAT64),
    ("test_reduce_log_sum_exp_negative_axes_keepdims_random_expanded", FLOAT64),

    ("test_cast_DOUBLE_to_FLOAT16", FLOAT16),
    ("test_cast_FLOAT16_to_DOUBLE", FLOAT16),
    ("test_cast_FLOAT16_to_FLOAT", FLOAT16),
    ("test_cast_FLOAT_to_FLOAT16", FLOAT16),
    ("test_castlike_DOUBLE_to_FLOAT16", FLOAT16),
    ("test_castlike_DOUBLE_to_FLOAT16_expanded", FLOAT16),
    ("test_castlike_FLOAT16_to_DOUBLE", FLOAT16),
    ("test_castlike_FLOAT16_to_DOUBLE_expanded", FLOAT16),
    ("test_castlike_FLOAT16_to_FLOAT", FLOAT16),
    ("test_castlike_FLOAT16_to_FLOAT_expanded", FLOAT16),
    ("test_castlike_FLOAT_to_FLOAT16", FLOAT16),
    ("test_castlike_FLOAT_to_FLOAT16_expanded", FLOAT16),
    ("test_causal_conv_with_state_fp16_expanded", FLOAT16),
    ("test_causal_conv_with_state_silu_fp16_expanded", FLOAT16),
    ("test_flexattention_fp16_expanded_ver26", FLOAT16),
    ("test_max_float16", FLOAT16),
    ("test_min_float16", FLOAT16),
    ("test_range_float16_type_positive_delta", FLOAT16),

    ("test_cast_BFLOAT16_to_FLOAT", NARROW_TYPES),
    ("test_cast_FLOAT16_to_FLOAT4E2M1", NARROW_TYPES),
    ("test_cast_FLOAT16_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_cast_FLOAT16_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_cast_FLOAT16_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_cast_FLOAT16_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_cast_FLOAT16_to_INT2", NARROW_TYPES),
    ("test_cast_FLOAT16_to_INT4", NARROW_TYPES),
    ("test_cast_FLOAT16_to_UINT2", NARROW_TYPES),
    ("test_cast_FLOAT16_to_UINT4", NARROW_TYPES),
    ("test_cast_FLOAT4E2M1_to_FLOAT", NARROW_TYPES),
    ("test_cast_FLOAT4E2M1_to_FLOAT16", NARROW_TYPES),
    ("test_cast_FLOAT8E4M3FNUZ_to_FLOAT", NARROW_TYPES),
    ("test_cast_FLOAT8E4M3FNUZ_to_FLOAT16", NARROW_TYPES),
    ("test_cast_FLOAT8E4M3FN_to_FLOAT", NARROW_TYPES),
    ("test_cast_FLOAT8E4M3FN_to_FLOAT16", NARROW_TYPES),
    ("test_cast_FLOAT8E5M2FNUZ_to_FLOAT", NARROW_TYPES),
    ("test_cast_FLOAT8E5M2FNUZ_to_FLOAT16", NARROW_TYPES),
    ("test_cast_FLOAT8E5M2_to_FLOAT", NARROW_TYPES),
    ("test_cast_FLOAT8E5M2_to_FLOAT16", NARROW_TYPES),
    ("test_cast_FLOAT_to_BFLOAT16", NARROW_TYPES),
    ("test_cast_FLOAT_to_FLOAT4E2M1", NARROW_TYPES),
    ("test_cast_FLOAT_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_cast_FLOAT_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_cast_FLOAT_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_cast_FLOAT_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_cast_FLOAT_to_INT2", NARROW_TYPES),
    ("test_cast_FLOAT_to_INT4", NARROW_TYPES),
    ("test_cast_FLOAT_to_UINT2", NARROW_TYPES),
    ("test_cast_FLOAT_to_UINT4", NARROW_TYPES),
    ("test_cast_INT2_to_FLOAT", NARROW_TYPES),
    ("test_cast_INT2_to_FLOAT16", NARROW_TYPES),
    ("test_cast_INT2_to_INT8", NARROW_TYPES),
    ("test_cast_INT4_to_FLOAT", NARROW_TYPES),
    ("test_cast_INT4_to_FLOAT16", NARROW_TYPES),
    ("test_cast_INT4_to_INT8", NARROW_TYPES),
    ("test_cast_UINT2_to_FLOAT", NARROW_TYPES),
    ("test_cast_UINT2_to_FLOAT16", NARROW_TYPES),
    ("test_cast_UINT2_to_UINT8", NARROW_TYPES),
    ("test_cast_UINT4_to_FLOAT", NARROW_TYPES),
    ("test_cast_UINT4_to_FLOAT16", NARROW_TYPES),
    ("test_cast_UINT4_to_UINT8", NARROW_TYPES),
    ("test_cast_e8m0_FLOAT16_to_FLOAT8E8M0", NARROW_TYPES),
    ("test_cast_e8m0_FLOAT8E8M0_to_FLOAT", NARROW_TYPES),
    ("test_cast_e8m0_FLOAT8E8M0_to_FLOAT16", NARROW_TYPES),
    ("test_cast_e8m0_FLOAT_to_FLOAT8E8M0", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT16_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT16_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT16_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT16_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_cast_no_saturate_FLOAT_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_castlike_BFLOAT16_to_FLOAT", NARROW_TYPES),
    ("test_castlike_BFLOAT16_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT4E2M1", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT4E2M1_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E4M3FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E4M3FN_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E5M2FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_FLOAT8E5M2_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_INT2", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_INT2_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_INT4", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_INT4_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_UINT2", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_UINT2_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_UINT4", NARROW_TYPES),
    ("test_castlike_FLOAT16_to_UINT4_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT4E2M1_to_FLOAT", NARROW_TYPES),
    ("test_castlike_FLOAT4E2M1_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_FLOAT4E2M1_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT4E2M1_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FNUZ_to_FLOAT", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FNUZ_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FNUZ_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FNUZ_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FN_to_FLOAT", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FN_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FN_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E4M3FN_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2FNUZ_to_FLOAT", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2FNUZ_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2FNUZ_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2FNUZ_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2_to_FLOAT", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT8E5M2_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_BFLOAT16", NARROW_TYPES),
    ("test_castlike_FLOAT_to_BFLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT4E2M1", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT4E2M1_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E4M3FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E4M3FN_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E5M2FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_FLOAT8E5M2_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_INT2", NARROW_TYPES),
    ("test_castlike_FLOAT_to_INT2_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_INT4", NARROW_TYPES),
    ("test_castlike_FLOAT_to_INT4_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_UINT2", NARROW_TYPES),
    ("test_castlike_FLOAT_to_UINT2_expanded", NARROW_TYPES),
    ("test_castlike_FLOAT_to_UINT4", NARROW_TYPES),
    ("test_castlike_FLOAT_to_UINT4_expanded", NARROW_TYPES),
    ("test_castlike_INT2_to_FLOAT", NARROW_TYPES),
    ("test_castlike_INT2_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_INT2_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_INT2_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_INT2_to_INT8", NARROW_TYPES),
    ("test_castlike_INT2_to_INT8_expanded", NARROW_TYPES),
    ("test_castlike_INT4_to_FLOAT", NARROW_TYPES),
    ("test_castlike_INT4_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_INT4_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_INT4_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_INT4_to_INT8", NARROW_TYPES),
    ("test_castlike_INT4_to_INT8_expanded", NARROW_TYPES),
    ("test_castlike_UINT2_to_FLOAT", NARROW_TYPES),
    ("test_castlike_UINT2_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_UINT2_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_UINT2_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_UINT2_to_UINT8", NARROW_TYPES),
    ("test_castlike_UINT2_to_UINT8_expanded", NARROW_TYPES),
    ("test_castlike_UINT4_to_FLOAT", NARROW_TYPES),
    ("test_castlike_UINT4_to_FLOAT16", NARROW_TYPES),
    ("test_castlike_UINT4_to_FLOAT16_expanded", NARROW_TYPES),
    ("test_castlike_UINT4_to_FLOAT_expanded", NARROW_TYPES),
    ("test_castlike_UINT4_to_UINT8", NARROW_TYPES),
    ("test_castlike_UINT4_to_UINT8_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E4M3FN_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E5M2FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT16_to_FLOAT8E5M2_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FN", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FNUZ", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E4M3FN_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E5M2", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E5M2FNUZ", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E5M2FNUZ_expanded", NARROW_TYPES),
    ("test_castlike_no_saturate_FLOAT_to_FLOAT8E5M2_expanded", NARROW_TYPES),
    ("test_range_bfloat16_type_positive_delta", NARROW_TYPES),

    ("test_equal_string", STRINGS),
    ("test_equal_string_broadcast", STRINGS),

    ("test_pow_types_int32_float32", INT_POW),
    ("test_pow_types_int32_int32", INT_POW),
    ("test_pow_types_int64_float32", INT_POW),
    ("test_pow_types_int64_int64", INT_POW),

    ("test_reduce_max_bool_inputs", BOOL_REDUCE),
    ("test_reduce_min_bool_inputs", BOOL_REDUCE),

    ("test_identity_opt", SEQUENCES),
    ("test_identity_sequence", SEQUENCES),

    ("test_convinteger_with_padding", QUANTIZED_CONV),
    ("test_convinteger_without_padding", QUANTIZED_CONV),
    ("test_qlinearconv", QUANTIZED_CONV),

    ("test_batchnorm_epsilon_training_mode", TRAINING),
    ("test_batchnorm_example_training_mode", TRAINING),
    ("test_training_dropout", TRAINING),
    ("test_training_dropout_default", TRAINING),
    ("test_training_dropout_default_mask", TRAINING),
    ("test_training_dropout_mask", TRAINING),

    ("test_maxpool_with_argmax_2d_precomputed_pads", INDICES),
    ("test_maxpool_with_argmax_2d_precomputed_strides", INDICES),

    ("test_blackmanwindow_expanded", DATA_DEPENDENT),
    ("test_blackmanwindow_symmetric_expanded", DATA_DEPENDENT),
    ("test_center_crop_pad_crop_and_pad_expanded", DATA_DEPENDENT),
    ("test_center_crop_pad_crop_axes_chw_expanded", DATA_DEPENDENT),
    ("test_center_crop_pad_crop_axes_hwc_expanded", DATA_DEPENDENT),
    ("test_center_crop_pad_crop_expanded", DATA_DEPENDENT),
    ("test_center_crop_pad_crop_negative_axes_hwc_expanded", DATA_DEPENDENT),
    ("test_center_crop_pad_pad_expanded", DATA_DEPENDENT),
    ("test_hammingwindow_expanded", DATA_DEPENDENT),
    ("test_hammingwindow_symmetric_expanded", DATA_DEPENDENT),
    ("test_hannwindow_expanded", DATA_DEPENDENT),
    ("test_hannwindow_symmetric_expanded", DATA_DEPENDENT),

    ("test_not_2d", OLD_OPSET),
    ("test_not_3d", OLD_OPSET),
    ("test_not_4d", OLD_OPSET),

    ("test_ELU", NO_OP),
    ("test_SELU", NO_OP),
    ("test_Softplus", NO_OP),
    ("test_operator_repeat", NO_OP),
    ("test_operator_repeat_dim_overflow", NO_OP),
    ("test_operator_selu", NO_OP),
    ("test_operator_symbolic_override", NO_OP),
];

/// Inputs that Ferrolite needs at conversion or plan time (shapes, axes, amounts). ONNX's
/// test models feed them as graph inputs for convenience; the harness binds them to the
/// case's data as constants. `(operator, input index)`.
const PLAN_TIME_INPUTS: &[(&str, usize)] = &[
    ("Reshape", 1),
    ("Expand", 1),
    ("ConstantOfShape", 0),
    ("Tile", 1),
    ("Range", 0),
    ("Range", 1),
    ("Range", 2),
    ("Slice", 1),
    ("Slice", 2),
    ("Slice", 3),
    ("Slice", 4),
    ("Resize", 1),
    ("Resize", 2),
    ("Resize", 3),
    ("Upsample", 1),
    ("Pad", 1),
    ("Pad", 2),
    ("Pad", 3),
    ("Squeeze", 1),
    ("Unsqueeze", 1),
    ("Split", 1),
    ("ReduceMean", 1),
    ("ReduceMax", 1),
    ("ReduceMin", 1),
    ("ReduceSum", 1),
    ("ReduceProd", 1),
    ("Dropout", 1),
    ("Dropout", 2),
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the converter crate sits in the workspace").to_path_buf()
}

const FETCH_HINT: &str = "run ./scripts/fetch-onnx-tests.sh from the workspace root (needs python3 with pip)";

/// The node cases the test runs: the names in `scripts/onnx-node-cases.txt`.
fn listed_node_cases(root: &Path) -> Vec<String> {
    let list = root.join("scripts/onnx-node-cases.txt");
    let text = std::fs::read_to_string(&list).unwrap_or_else(|e| panic!("{}: {e}", list.display()));
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect()
}

/// The case folders of every set, sorted within each set.
///
/// Node cases: with `$FERROLITE_ONNX_NODE_TESTS`, every case folder there (for exploring);
/// otherwise each case of `scripts/onnx-node-cases.txt`, from `.cache/onnx-node-tests` or
/// else `../shared/onnx-node-tests` (which holds an older, smaller selection). A listed
/// case found in neither fails the test, so a stale cache cannot shrink the run.
fn discover() -> Vec<(String, PathBuf)> {
    let root = workspace_root();
    let pytorch_dir = std::env::var_os("FERROLITE_ONNX_PYTORCH_TESTS")
        .map_or_else(|| root.join(".cache/onnx-pytorch-tests"), PathBuf::from);
    let mut cases = Vec::new();
    match std::env::var_os("FERROLITE_ONNX_NODE_TESTS") {
        Some(dir) => cases.extend(case_folders("node", &PathBuf::from(dir))),
        None => {
            let roots = [root.join(".cache/onnx-node-tests"), root.join("../shared/onnx-node-tests")];
            let mut missing = Vec::new();
            for name in listed_node_cases(&root) {
                match roots.iter().map(|r| r.join(&name)).find(|d| d.join("model.onnx").is_file()) {
                    Some(dir) => cases.push((format!("node/{name}"), dir)),
                    None => missing.push(name),
                }
            }
            assert!(
                missing.is_empty(),
                "{} listed ONNX node cases not found in .cache/onnx-node-tests (first: {}); {FETCH_HINT}",
                missing.len(),
                missing[0]
            );
        }
    }
    cases.extend(case_folders("op-fixtures", &root.join("testdata/onnx-op-fixtures")));
    cases.extend(case_folders("pytorch-converted", &pytorch_dir.join("pytorch-converted")));
    cases.extend(case_folders("pytorch-operator", &pytorch_dir.join("pytorch-operator")));
    cases
}

/// The case folders (those holding a `model.onnx`) of one set, sorted; the set must not be
/// empty.
fn case_folders(set: &str, dir: &Path) -> Vec<(String, PathBuf)> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("ONNX conformance cases ({set}) not found at {}: {e}; {FETCH_HINT}", dir.display()));
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("model.onnx").is_file())
        .map(|p| (format!("{set}/{}", p.file_name().unwrap_or_default().to_string_lossy()), p))
        .collect();
    assert!(!found.is_empty(), "no ONNX conformance cases ({set}) in {}; {FETCH_HINT}", dir.display());
    found.sort();
    found
}

/// Reads one serialized `TensorProto`.
fn read_proto(path: &Path) -> Result<proto::TensorProto, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    proto::decode_tensor(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The `input_K.pb` or `output_K.pb` files of a data set, in order.
fn data_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    (0..).map(|k| dir.join(format!("{prefix}_{k}.pb"))).take_while(|p| p.is_file()).collect()
}

/// Binds the plan-time inputs of `model` to the case's values (moving them from the
/// graph's inputs to its initializers) and returns the remaining runtime inputs.
fn bind_plan_time_inputs(model: &mut proto::ModelProto, inputs: Vec<proto::TensorProto>) -> Result<Vec<proto::TensorProto>, String> {
    let graph = model.graph.as_mut().ok_or("the model has no graph")?;
    let initializers: Vec<String> = graph.initializer.iter().filter_map(|t| t.name.clone()).collect();
    let runtime_inputs: Vec<String> =
        graph.input.iter().filter_map(|i| i.name.clone()).filter(|n| !initializers.contains(n)).collect();
    if runtime_inputs.len() != inputs.len() {
        return Err(format!("{} graph inputs but {} input files", runtime_inputs.len(), inputs.len()));
    }
    let mut plan_time = std::collections::HashSet::new();
    for node in &graph.node {
        let op = node.op_type.as_deref().unwrap_or("");
        for (i, name) in node.input.iter().enumerate() {
            if PLAN_TIME_INPUTS.contains(&(op, i)) {
                plan_time.insert(name.clone());
            }
        }
    }
    let mut remaining = Vec::new();
    for (name, mut value) in runtime_inputs.into_iter().zip(inputs) {
        if plan_time.contains(&name) {
            value.name = Some(name.clone());
            graph.initializer.push(value);
            graph.input.retain(|i| i.name.as_deref() != Some(name.as_str()));
        } else {
            remaining.push(value);
        }
    }
    Ok(remaining)
}

fn tensor_of(t: &proto::TensorProto) -> Result<Tensor, String> {
    onnx::tensor_from_proto(t).map_err(|e| e.to_string())
}

/// Compares one output with its expected value.
fn compare(k: usize, got: &Tensor, want: &Tensor) -> Result<(), String> {
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Err(format!(
            "output {k}: got {} {:?}, expected {} {:?}",
            got.dtype(),
            got.shape(),
            want.dtype(),
            want.shape()
        ));
    }
    match want.dtype() {
        DType::F32 => {
            let (g, w) = (got.as_slice::<f32>().map_err(|e| e.to_string())?, want.as_slice::<f32>().map_err(|e| e.to_string())?);
            let mut worst: Option<(usize, f32, f32)> = None;
            let mut bad = 0usize;
            for (i, (&a, &b)) in g.iter().zip(w).enumerate() {
                let ok = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= ATOL + RTOL * b.abs();
                if !ok {
                    bad += 1;
                    if worst.is_none_or(|(_, wa, wb)| (a - b).abs() > (wa - wb).abs() || (a - b).is_nan()) {
                        worst = Some((i, a, b));
                    }
                }
            }
            match worst {
                None => Ok(()),
                Some((i, a, b)) => Err(format!(
                    "output {k}: {bad} of {} values differ; worst at flat index {i}: got {a}, expected {b}",
                    g.len()
                )),
            }
        }
        _ => {
            if got.bytes() == want.bytes() {
                Ok(())
            } else {
                Err(format!("output {k}: {} values differ", want.dtype()))
            }
        }
    }
}

/// Runs every data set of one case.
fn run_case(dir: &Path) -> Result<(), String> {
    let model_bytes = std::fs::read(dir.join("model.onnx")).map_err(|e| e.to_string())?;
    let model = proto::decode_model(&model_bytes).map_err(|e| format!("parse: {e}"))?;
    let mut sets: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("test_data_set_")))
        .collect();
    sets.sort();
    if sets.is_empty() {
        return Err("no test_data_set_* folder".into());
    }
    for set in sets {
        let inputs = data_files(&set, "input").iter().map(|p| read_proto(p)).collect::<Result<Vec<_>, _>>()?;
        let expected = data_files(&set, "output").iter().map(|p| read_proto(p)).collect::<Result<Vec<_>, _>>()?;
        let mut model = model.clone();
        let inputs = bind_plan_time_inputs(&mut model, inputs)?;
        let mut graph = onnx::import_model(&model).map_err(|e| format!("import: {e}"))?;
        ferrolite_converter::passes::optimize(&mut graph).map_err(|e| format!("optimize: {e}"))?;
        let model = Model::from_graph(graph).map_err(|e| format!("model: {e}"))?;
        let mut session =
            Session::new(Arc::new(model), SessionOptions::new().with_threads(1)).map_err(|e| format!("session: {e}"))?;
        let inputs = inputs.iter().map(tensor_of).collect::<Result<Vec<_>, _>>()?;
        let views: Vec<_> = inputs.iter().map(Tensor::view).collect();
        let outputs = session.run(&views).map_err(|e| format!("run: {e}"))?;
        if outputs.len() != expected.len() {
            return Err(format!("{} outputs, expected {}", outputs.len(), expected.len()));
        }
        for (k, (got, want)) in outputs.iter().zip(&expected).enumerate() {
            compare(k, got, &tensor_of(want)?).map_err(|e| format!("{}: {e}", set.file_name().unwrap_or_default().to_string_lossy()))?;
        }
    }
    Ok(())
}

#[test]
fn onnx_conformance() {
    let filter = std::env::var("FERROLITE_ONNX_CASE").ok();
    let out_of_scope: HashMap<&str, &str> = OUT_OF_SCOPE.iter().copied().collect();
    assert_eq!(out_of_scope.len(), OUT_OF_SCOPE.len(), "OUT_OF_SCOPE names a case twice");
    let mut seen = std::collections::HashSet::new();
    let mut by_reason: Vec<(&str, usize)> = Vec::new();
    let mut passed = Vec::new();
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    let mut unexpected_passes = Vec::new();
    for (name, dir) in discover() {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let short = name.rsplit('/').next().unwrap_or(&name);
        seen.insert(short.to_string());
        let result = catch_unwind(AssertUnwindSafe(|| run_case(&dir))).unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("PANIC: {msg}"))
        });
        match (result, out_of_scope.get(short)) {
            (Ok(()), None) => passed.push(name),
            (Ok(()), Some(_)) => unexpected_passes.push(name),
            (Err(e), Some(reason)) => {
                match by_reason.iter_mut().find(|(r, _)| r == reason) {
                    Some((_, n)) => *n += 1,
                    None => by_reason.push((reason, 1)),
                }
                skipped.push(format!("{name}: {reason} [{e}]"))
            }
            (Err(e), None) => failed.push(format!("{name}: {e}")),
        }
    }
    // A listed name that matches no case is stale (checked on full default runs only).
    let full_run = filter.is_none() && std::env::var_os("FERROLITE_ONNX_NODE_TESTS").is_none();
    let stale: Vec<&str> =
        if full_run { OUT_OF_SCOPE.iter().map(|(n, _)| *n).filter(|n| !seen.contains(*n)).collect() } else { Vec::new() };
    println!(
        "\nONNX conformance: {} passed, {} out of scope, {} failed, {} out of scope but passing, {} listed but not found",
        passed.len(),
        skipped.len(),
        failed.len(),
        unexpected_passes.len(),
        stale.len()
    );
    if !by_reason.is_empty() {
        println!("\nout of scope by reason:");
        by_reason.iter().for_each(|(r, n)| println!("  {n:4}  {r}"));
    }
    if !skipped.is_empty() {
        println!("\nout of scope (expected failures):");
        skipped.iter().for_each(|s| println!("  {s}"));
    }
    if !unexpected_passes.is_empty() {
        println!("\nlisted out of scope but now passing (remove them from OUT_OF_SCOPE):");
        unexpected_passes.iter().for_each(|s| println!("  {s}"));
    }
    if !failed.is_empty() {
        println!("\nfailed:");
        failed.iter().for_each(|s| println!("  {s}"));
    }
    if !stale.is_empty() {
        println!("\nlisted out of scope but no such case (remove them from OUT_OF_SCOPE):");
        stale.iter().for_each(|s| println!("  {s}"));
    }
    assert!(
        failed.is_empty() && unexpected_passes.is_empty() && stale.is_empty(),
        "{} ONNX conformance cases failed, {} out-of-scope cases passed and {} out-of-scope names match no case \
         (see the lists above)",
        failed.len(),
        unexpected_passes.len(),
        stale.len()
    );
}

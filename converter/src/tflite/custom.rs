//! Custom operators: MediaPipe's `Convolution2DTransposeBias`.
//!
//! MediaPipe's segmentation models (selfie segmentation, hair segmentation, ...) use this
//! custom operator for their upsampling layers; it predates TFLite's own `TRANSPOSE_CONV`
//! taking a bias.
//!
//! # The operator (from MediaPipe's `mediapipe/util/tflite/operations/transpose_conv_bias.cc`)
//!
//! Inputs: `x [N, H, W, C]` (f32), `weights [O, KH, KW, C]`, `bias [O]`. The output is
//! `[N, OH, OW, O]` with, per spatial axis (stride `s`, kernel `k`, input size `n`):
//!
//! - padding `SAME`: `total = max(0, k - (n - 1) % s - 1)`; `VALID`: `total = 0`;
//! - `out = s * (n - 1) + k - total`, and the full transposed convolution is cropped by
//!   `total / 2` (rounded down) at the start and the rest at the end.
//!
//! Note this `SAME` is *not* TFLite's `TRANSPOSE_CONV` `SAME` (which yields `n * s`): for
//! `k = 4, s = 2, n = 5` it gives 9 rows, not 10. The importer therefore states the padding
//! explicitly, which needs the input's height and width.
//!
//! # The options blob
//!
//! There are no flexbuffer options: the kernel reinterprets `custom_options` as TFLite's C
//! struct `TfLiteTransposeConvParams`, of which it reads the first three fields, each a
//! little-endian 32-bit integer:
//!
//! | bytes | field | values |
//! |---|---|---|
//! | 0..4 | `padding` (`TfLitePadding`) | 0 unknown, 1 `SAME`, 2 `VALID` |
//! | 4..8 | `stride_width` | > 0 |
//! | 8..12 | `stride_height` | > 0 |
//!
//! MediaPipe's exporter writes exactly these 12 bytes (TensorFlow's MLIR tests carry the
//! blob `01000000 02000000 02000000`: `SAME`, strides 2 and 2). Later fields of the C struct
//! (fused activation, bias type), if present, are ignored, as the MediaPipe kernel ignores
//! them.

/// Custom code of MediaPipe's transposed convolution with bias.
pub(super) const TRANSPOSE_CONV_BIAS: &str = "Convolution2DTransposeBias";

/// Padding of the MediaPipe operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TransposeConvPadding {
    Same,
    Valid,
}

/// The options of `Convolution2DTransposeBias`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TransposeConvBiasOptions {
    pub padding: TransposeConvPadding,
    pub stride_w: usize,
    pub stride_h: usize,
}

/// Parses the options blob described in the module documentation.
pub(super) fn parse_transpose_conv_bias(blob: &[u8]) -> Result<TransposeConvBiasOptions, String> {
    let field = |i: usize| -> Result<i32, String> {
        blob.get(i * 4..i * 4 + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(i32::from_le_bytes).ok_or_else(|| {
            format!("its options are {} bytes, at least 12 are needed (padding, stride_w, stride_h)", blob.len())
        })
    };
    let padding = match field(0)? {
        1 => TransposeConvPadding::Same,
        2 => TransposeConvPadding::Valid,
        p => return Err(format!("padding code {p} in its options is neither SAME (1) nor VALID (2)")),
    };
    let stride = |i: usize, name: &str| -> Result<usize, String> {
        let s = field(i)?;
        usize::try_from(s).ok().filter(|&s| s > 0).ok_or_else(|| format!("{name} {s} in its options is not positive"))
    };
    Ok(TransposeConvBiasOptions { padding, stride_w: stride(1, "stride_w")?, stride_h: stride(2, "stride_h")? })
}

/// Cropping at the start and at the end of one spatial axis (see the module docs).
pub(super) fn transpose_conv_bias_crop(
    padding: TransposeConvPadding,
    input: usize,
    kernel: usize,
    stride: usize,
) -> (usize, usize) {
    let total = match padding {
        TransposeConvPadding::Same => kernel.saturating_sub((input.saturating_sub(1)) % stride + 1),
        TransposeConvPadding::Valid => 0,
    };
    (total / 2, total - total / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_mlir_test_blob() {
        let blob = [1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0];
        let o = parse_transpose_conv_bias(&blob).unwrap();
        assert_eq!(o, TransposeConvBiasOptions { padding: TransposeConvPadding::Same, stride_w: 2, stride_h: 2 });
        // Extra trailing fields are ignored.
        let longer = [2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];
        let o = parse_transpose_conv_bias(&longer).unwrap();
        assert_eq!((o.padding, o.stride_w, o.stride_h), (TransposeConvPadding::Valid, 3, 1));
    }

    #[test]
    fn rejects_short_or_bad_blobs() {
        assert!(parse_transpose_conv_bias(&[]).is_err());
        assert!(parse_transpose_conv_bias(&[1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0]).is_err());
        assert!(parse_transpose_conv_bias(&[0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0]).is_err());
        assert!(parse_transpose_conv_bias(&[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]).is_err());
        assert!(parse_transpose_conv_bias(&[1, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn crop_matches_mediapipe_output_sizes() {
        // out = s * (n - 1) + k - total, worked out from the MediaPipe formula by hand.
        let out = |p, n: usize, k: usize, s: usize| {
            let (a, b) = transpose_conv_bias_crop(p, n, k, s);
            s * (n - 1) + k - a - b
        };
        assert_eq!(out(TransposeConvPadding::Same, 4, 4, 2), 8);
        assert_eq!(out(TransposeConvPadding::Same, 5, 4, 2), 9);
        assert_eq!(out(TransposeConvPadding::Same, 4, 1, 2), 7);
        assert_eq!(out(TransposeConvPadding::Valid, 4, 3, 2), 9);
        assert_eq!(transpose_conv_bias_crop(TransposeConvPadding::Same, 4, 4, 2), (1, 1));
        assert_eq!(transpose_conv_bias_crop(TransposeConvPadding::Same, 5, 4, 2), (1, 2));
    }
}

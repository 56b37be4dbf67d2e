//! `mobilenet_v2_10_224`: `keras.applications.MobileNetV2`
//! (keras/src/applications/mobilenet_v2.py), `alpha=1.0`, `include_top=True`, 224x224.

use ferrolite_runtime::ir::Graph;

use super::builder::{ConvSpec, NetBuilder, Value};

/// Input height and width.
pub(super) const SIZE: usize = 224;

/// MobileNetV2 passes `epsilon=1e-3` to every `BatchNormalization`.
const BN_EPSILON: f32 = 1e-3;

/// Mirrors `MobileNetV2` at `alpha=1.0`: `Conv1` (3x3/2, 32), seventeen
/// `_inverted_res_block`s, `Conv_1` (1x1, 1280), global average pooling and the softmax
/// `Dense`.
pub(super) fn build(seed: u64, classes: usize) -> Graph {
    let (mut net, input) = NetBuilder::new(super::MOBILENET_V2, seed, SIZE);
    let b = &mut net;
    let x = b.conv(&input, "Conv1", &ConvSpec::new(32, [3, 3]).stride(2).same().no_bias());
    let x = b.batch_norm(&x, "bn_Conv1", BN_EPSILON, true);
    let mut x = b.relu6(&x, "Conv1_relu");
    // (filters, stride, expansion) of blocks 0..=16.
    let blocks = [
        (16, 1, 1),
        (24, 2, 6),
        (24, 1, 6),
        (32, 2, 6),
        (32, 1, 6),
        (32, 1, 6),
        (64, 2, 6),
        (64, 1, 6),
        (64, 1, 6),
        (64, 1, 6),
        (96, 1, 6),
        (96, 1, 6),
        (96, 1, 6),
        (160, 2, 6),
        (160, 1, 6),
        (160, 1, 6),
        (320, 1, 6),
    ];
    for (id, &(filters, stride, expansion)) in blocks.iter().enumerate() {
        x = inverted_res_block(b, &x, expansion, stride, make_divisible(filters, 8), id);
    }
    let x = b.conv(&x, "Conv_1", &ConvSpec::new(1280, [1, 1]).no_bias());
    let x = b.batch_norm(&x, "Conv_1_bn", BN_EPSILON, true);
    let x = b.relu6(&x, "out_relu");
    let x = b.global_avg_pool(&x, "global_average_pooling2d");
    let x = b.flatten(&x, "global_average_pooling2d_flatten");
    let x = b.dense(&x, "predictions", classes);
    net.finish_softmax(&x, "predictions_softmax")
}

/// `_make_divisible`: rounds `v` to the nearest multiple of `divisor`, never below it and
/// never more than 10% down.
fn make_divisible(v: usize, divisor: usize) -> usize {
    let rounded = ((v + divisor / 2) / divisor * divisor).max(divisor);
    if rounded * 10 < v * 9 { rounded + divisor } else { rounded }
}

/// `imagenet_utils.correct_pad` for a 3x3 kernel: `((top, bottom), (left, right))` of the
/// `ZeroPadding2D` before a stride-2 depthwise convolution; an even side loses its leading
/// pixel.
fn correct_pad(hw: [usize; 2]) -> [usize; 4] {
    let adjust = |d: usize| usize::from(d.is_multiple_of(2));
    [1 - adjust(hw[0]), 1 - adjust(hw[1]), 1, 1]
}

/// `_inverted_res_block`: a 1x1 expansion (not in block 0), batch norm, ReLU6; a 3x3
/// depthwise convolution ("same" at stride 1, else `correct_pad` folded in and "valid"),
/// batch norm, ReLU6; a linear 1x1 projection and batch norm; the residual `Add` when the
/// shape is kept.
fn inverted_res_block(
    b: &mut NetBuilder,
    inputs: &Value,
    expansion: usize,
    stride: usize,
    filters: usize,
    id: usize,
) -> Value {
    let in_channels = inputs.channels();
    let (prefix, mut x) = if id == 0 {
        ("expanded_conv_".to_string(), inputs.clone())
    } else {
        let prefix = format!("block_{id}_");
        let spec = ConvSpec::new(expansion * in_channels, [1, 1]).same().no_bias();
        let x = b.conv(inputs, &format!("{prefix}expand"), &spec);
        let x = b.batch_norm(&x, &format!("{prefix}expand_BN"), BN_EPSILON, true);
        let x = b.relu6(&x, &format!("{prefix}expand_relu"));
        (prefix, x)
    };
    let dw = ConvSpec::depthwise([3, 3]).stride(stride).no_bias();
    let dw = if stride == 1 {
        dw.same()
    } else {
        let [top, left, bottom, right] = match x.shape.as_slice() {
            [_, h, w, _] => correct_pad([*h, *w]),
            _ => [1, 1, 1, 1],
        };
        dw.zero_pad(top, left, bottom, right)
    };
    x = b.conv(&x, &format!("{prefix}depthwise"), &dw);
    x = b.batch_norm(&x, &format!("{prefix}depthwise_BN"), BN_EPSILON, true);
    x = b.relu6(&x, &format!("{prefix}depthwise_relu"));
    x = b.conv(&x, &format!("{prefix}project"), &ConvSpec::new(filters, [1, 1]).same().no_bias());
    x = b.batch_norm(&x, &format!("{prefix}project_BN"), BN_EPSILON, true);
    if in_channels == filters && stride == 1 {
        return b.add(inputs, &x, &format!("{prefix}add"));
    }
    x
}

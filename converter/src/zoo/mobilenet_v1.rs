//! `mobilenet_v1_10_224`: `keras.applications.MobileNet` (keras/src/applications/mobilenet.py),
//! `alpha=1.0`, `depth_multiplier=1`, `include_top=True`, 224x224.

use ferrolite_runtime::ir::Graph;

use super::builder::{ConvSpec, NetBuilder, Value};

/// Input height and width.
pub(super) const SIZE: usize = 224;

/// `BatchNormalization()`'s default epsilon, which MobileNet keeps.
const BN_EPSILON: f32 = 1e-3;

/// Mirrors `MobileNet`: `_conv_block` (3x3/2, 32), thirteen `_depthwise_conv_block`s, and
/// the convolutional head: `GlobalAveragePooling2D(keepdims=True)`, `dropout` (a no-op at
/// inference, omitted), the 1x1 `conv_preds`, `Reshape((classes,))` and the softmax.
pub(super) fn build(seed: u64, classes: usize) -> Graph {
    let (mut net, input) = NetBuilder::new(super::MOBILENET_V1, seed, SIZE);
    let b = &mut net;
    let x = conv_block(b, &input, 32, 2);
    // (pointwise filters, stride) of blocks 1..=13.
    let blocks = [
        (64, 1),
        (128, 2),
        (128, 1),
        (256, 2),
        (256, 1),
        (512, 2),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (1024, 2),
        (1024, 1),
    ];
    let mut x = x;
    for (i, &(filters, stride)) in blocks.iter().enumerate() {
        x = depthwise_conv_block(b, &x, filters, stride, i + 1);
    }
    let x = b.global_avg_pool(&x, "global_average_pooling2d");
    let x = b.conv(&x, "conv_preds", &ConvSpec::new(classes, [1, 1]).same().logits());
    let x = b.reshape(&x, "reshape_2", &[1, classes]);
    net.finish_softmax(&x, "predictions")
}

/// `_conv_block`: a bias-free 3x3 "same" convolution, batch norm and ReLU6.
fn conv_block(b: &mut NetBuilder, x: &Value, filters: usize, stride: usize) -> Value {
    let x = b.conv(x, "conv1", &ConvSpec::new(filters, [3, 3]).stride(stride).same().no_bias());
    let x = b.batch_norm(&x, "conv1_bn", BN_EPSILON, true);
    b.relu6(&x, "conv1_relu")
}

/// `_depthwise_conv_block`: a 3x3 depthwise convolution ("same" at stride 1; at stride 2 a
/// `ZeroPadding2D(((0, 1), (0, 1)))`, folded in here, then "valid"), batch norm, ReLU6,
/// then a 1x1 pointwise convolution, batch norm, ReLU6.
fn depthwise_conv_block(b: &mut NetBuilder, x: &Value, filters: usize, stride: usize, id: usize) -> Value {
    let dw = ConvSpec::depthwise([3, 3]).stride(stride).no_bias();
    let dw = if stride == 1 { dw.same() } else { dw.zero_pad(0, 0, 1, 1) };
    let x = b.conv(x, &format!("conv_dw_{id}"), &dw);
    let x = b.batch_norm(&x, &format!("conv_dw_{id}_bn"), BN_EPSILON, true);
    let x = b.relu6(&x, &format!("conv_dw_{id}_relu"));
    let x = b.conv(&x, &format!("conv_pw_{id}"), &ConvSpec::new(filters, [1, 1]).same().no_bias());
    let x = b.batch_norm(&x, &format!("conv_pw_{id}_bn"), BN_EPSILON, true);
    b.relu6(&x, &format!("conv_pw_{id}_relu"))
}

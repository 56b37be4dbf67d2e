//! `resnet_v2_50`: `keras.applications.ResNet50V2` (keras/src/applications/resnet_v2.py and
//! the shared `ResNet` / `residual_block_v2` in resnet.py), `include_top=True`, 224x224.

use ferrolite_runtime::ir::{Graph, Padding, PoolKind};

use super::builder::{ConvSpec, NetBuilder, Value};

/// Input height and width.
pub(super) const SIZE: usize = 224;

/// ResNet passes `epsilon=1.001e-5` to every `BatchNormalization`.
const BN_EPSILON: f32 = 1.001e-5;

/// Mirrors `ResNet(stack_fn, preact=True, use_bias=True)` of ResNet50V2: `conv1_pad` folded
/// into the biased 7x7/2 `conv1_conv`, `pool1_pad` + 3x3/2 `pool1_pool`, the stacks
/// conv2-conv5 of pre-activation bottlenecks (3, 4, 6, 3 blocks), `post_bn` + `post_relu`,
/// global average pooling and the softmax `Dense`.
pub(super) fn build(seed: u64, classes: usize) -> Graph {
    let (mut net, input) = NetBuilder::new(super::RESNET_V2_50, seed, SIZE);
    let b = &mut net;
    let x = b.conv(&input, "conv1_conv", &ConvSpec::new(64, [7, 7]).stride(2).zero_pad(3, 3, 3, 3));
    // conv1's output is not rectified (the first block normalizes it): the zeros of
    // `pool1_pad` can win the maximum, so the padding stays a layer of its own.
    let x = b.zero_pad(&x, "pool1_pad", 1, 1, 1, 1);
    let x = b.pool(&x, "pool1_pool", PoolKind::Max, 3, 2, Padding::VALID);

    let x = stack(b, &x, 64, 3, 2, "conv2");
    let x = stack(b, &x, 128, 4, 2, "conv3");
    let x = stack(b, &x, 256, 6, 2, "conv4");
    let x = stack(b, &x, 512, 3, 1, "conv5");

    let x = b.batch_norm(&x, "post_bn", BN_EPSILON, true);
    let x = b.relu(&x, "post_relu");
    let x = b.global_avg_pool(&x, "avg_pool");
    let x = b.flatten(&x, "avg_pool_flatten");
    let x = b.dense(&x, "predictions", classes);
    net.finish_softmax(&x, "predictions_softmax")
}

/// `stack_residual_blocks_v2`: a first block with a convolutional shortcut, identity blocks,
/// and a last block with stride `stride1` (the downsampling happens at the end of a stack).
fn stack(b: &mut NetBuilder, x: &Value, filters: usize, blocks: usize, stride1: usize, name: &str) -> Value {
    let mut x = residual_block_v2(b, x, filters, 1, true, &format!("{name}_block1"));
    for i in 2..blocks {
        x = residual_block_v2(b, &x, filters, 1, false, &format!("{name}_block{i}"));
    }
    residual_block_v2(b, &x, filters, stride1, false, &format!("{name}_block{blocks}"))
}

/// `residual_block_v2`: batch norm + ReLU pre-activation; the shortcut is a biased 1x1
/// convolution of the pre-activation (`conv_shortcut`), or the block input itself,
/// subsampled by a 1x1/`stride` max pool when strided; the residual is 1x1 (no bias), 3x3
/// with `_2_pad` folded in (no bias, carries the stride), 1x1 (biased) to `4 * filters`.
fn residual_block_v2(
    b: &mut NetBuilder,
    x: &Value,
    filters: usize,
    stride: usize,
    conv_shortcut: bool,
    name: &str,
) -> Value {
    let preact = b.batch_norm(x, &format!("{name}_preact_bn"), BN_EPSILON, true);
    let preact = b.relu(&preact, &format!("{name}_preact_relu"));

    let shortcut = if conv_shortcut {
        b.conv(&preact, &format!("{name}_0_conv"), &ConvSpec::new(4 * filters, [1, 1]).stride(stride))
    } else if stride > 1 {
        b.pool(x, &format!("{name}_shortcut_pool"), PoolKind::Max, 1, stride, Padding::VALID)
    } else {
        x.clone()
    };

    let r = b.conv(&preact, &format!("{name}_1_conv"), &ConvSpec::new(filters, [1, 1]).no_bias());
    let r = b.batch_norm(&r, &format!("{name}_1_bn"), BN_EPSILON, true);
    let r = b.relu(&r, &format!("{name}_1_relu"));
    let spec = ConvSpec::new(filters, [3, 3]).stride(stride).zero_pad(1, 1, 1, 1).no_bias();
    let r = b.conv(&r, &format!("{name}_2_conv"), &spec);
    let r = b.batch_norm(&r, &format!("{name}_2_bn"), BN_EPSILON, true);
    let r = b.relu(&r, &format!("{name}_2_relu"));
    let r = b.conv(&r, &format!("{name}_3_conv"), &ConvSpec::new(4 * filters, [1, 1]));
    b.add(&shortcut, &r, &format!("{name}_out"))
}

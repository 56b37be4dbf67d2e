//! `inception_v3`: `keras.applications.InceptionV3` (keras/src/applications/inception_v3.py),
//! `include_top=True`, 299x299.

use ferrolite_runtime::ir::{Graph, Padding, PoolKind};

use super::builder::{ConvSpec, NetBuilder, Value};

/// Input height and width.
pub(super) const SIZE: usize = 299;

/// Keras' default `BatchNormalization` epsilon, which `conv2d_bn` keeps.
const BN_EPSILON: f32 = 1e-3;

/// Mirrors `InceptionV3`: the stem, mixed0-2 (35x35), mixed3 (reduction), mixed4-7 (17x17
/// with factorized 7x7s), mixed8 (reduction), mixed9-10 (8x8 with split 3x3s), global
/// average pooling and the softmax `Dense`. Keras names these layers automatically
/// (`conv2d_57`); here they are named after their block and branch.
pub(super) fn build(seed: u64, classes: usize) -> Graph {
    let (mut net, input) = NetBuilder::new(super::INCEPTION_V3, seed, SIZE);
    let b = &mut net;
    let x = conv2d_bn(b, &input, 32, [3, 3], 2, Pad::Valid, "stem_1");
    let x = conv2d_bn(b, &x, 32, [3, 3], 1, Pad::Valid, "stem_2");
    let x = conv2d_bn(b, &x, 64, [3, 3], 1, Pad::Same, "stem_3");
    let x = b.pool(&x, "stem_pool1", PoolKind::Max, 3, 2, Padding::VALID);
    let x = conv2d_bn(b, &x, 80, [1, 1], 1, Pad::Valid, "stem_4");
    let x = conv2d_bn(b, &x, 192, [3, 3], 1, Pad::Valid, "stem_5");
    let x = b.pool(&x, "stem_pool2", PoolKind::Max, 3, 2, Padding::VALID);

    let x = block_35(b, &x, 32, "mixed0");
    let x = block_35(b, &x, 64, "mixed1");
    let x = block_35(b, &x, 64, "mixed2");
    let x = reduction_a(b, &x, "mixed3");
    let x = block_17(b, &x, 128, "mixed4");
    let x = block_17(b, &x, 160, "mixed5");
    let x = block_17(b, &x, 160, "mixed6");
    let x = block_17(b, &x, 192, "mixed7");
    let x = reduction_b(b, &x, "mixed8");
    let x = block_8(b, &x, "mixed9");
    let x = block_8(b, &x, "mixed10");

    let x = b.global_avg_pool(&x, "avg_pool");
    let x = b.flatten(&x, "avg_pool_flatten");
    let x = b.dense(&x, "predictions", classes);
    net.finish_softmax(&x, "predictions_softmax")
}

/// Keras' `padding=` of a `conv2d_bn`.
#[derive(Clone, Copy)]
enum Pad {
    Same,
    Valid,
}

/// `conv2d_bn`: a bias-free convolution, `BatchNormalization(scale=False)` and a ReLU
/// (`{name}_conv`, `{name}_bn`, `{name}`).
fn conv2d_bn(
    b: &mut NetBuilder,
    x: &Value,
    filters: usize,
    kernel: [usize; 2],
    stride: usize,
    pad: Pad,
    name: &str,
) -> Value {
    let mut spec = ConvSpec::new(filters, kernel).stride(stride).no_bias();
    if let Pad::Same = pad {
        spec = spec.same();
    }
    let x = b.conv(x, &format!("{name}_conv"), &spec);
    let x = b.batch_norm(&x, &format!("{name}_bn"), BN_EPSILON, false);
    b.relu(&x, name)
}

/// The `AveragePooling2D((3, 3), strides=(1, 1), padding="same")` of a branch_pool.
fn avg_pool_same(b: &mut NetBuilder, x: &Value, name: &str) -> Value {
    b.pool(x, name, PoolKind::Avg, 3, 1, Padding::SameUpper)
}

/// mixed0-2: 1x1, 5x5, double 3x3 and pooled branches at 35x35.
fn block_35(b: &mut NetBuilder, x: &Value, pool_filters: usize, name: &str) -> Value {
    let s = Pad::Same;
    let branch1x1 = conv2d_bn(b, x, 64, [1, 1], 1, s, &format!("{name}_1x1"));

    let branch5x5 = conv2d_bn(b, x, 48, [1, 1], 1, s, &format!("{name}_5x5_1"));
    let branch5x5 = conv2d_bn(b, &branch5x5, 64, [5, 5], 1, s, &format!("{name}_5x5_2"));

    let dbl = conv2d_bn(b, x, 64, [1, 1], 1, s, &format!("{name}_3x3dbl_1"));
    let dbl = conv2d_bn(b, &dbl, 96, [3, 3], 1, s, &format!("{name}_3x3dbl_2"));
    let dbl = conv2d_bn(b, &dbl, 96, [3, 3], 1, s, &format!("{name}_3x3dbl_3"));

    let pool = avg_pool_same(b, x, &format!("{name}_pool"));
    let pool = conv2d_bn(b, &pool, pool_filters, [1, 1], 1, s, &format!("{name}_pool_proj"));
    b.concat(&[&branch1x1, &branch5x5, &dbl, &pool], name)
}

/// mixed3: 35x35 -> 17x17 with strided 3x3 branches and a max pool.
fn reduction_a(b: &mut NetBuilder, x: &Value, name: &str) -> Value {
    let branch3x3 = conv2d_bn(b, x, 384, [3, 3], 2, Pad::Valid, &format!("{name}_3x3"));

    let dbl = conv2d_bn(b, x, 64, [1, 1], 1, Pad::Same, &format!("{name}_3x3dbl_1"));
    let dbl = conv2d_bn(b, &dbl, 96, [3, 3], 1, Pad::Same, &format!("{name}_3x3dbl_2"));
    let dbl = conv2d_bn(b, &dbl, 96, [3, 3], 2, Pad::Valid, &format!("{name}_3x3dbl_3"));

    let pool = b.pool(x, &format!("{name}_pool"), PoolKind::Max, 3, 2, Padding::VALID);
    b.concat(&[&branch3x3, &dbl, &pool], name)
}

/// mixed4-7: 1x1, factorized 7x7 (1x7, 7x1), double factorized 7x7 and pooled branches at
/// 17x17; `c` is the width of the 7x7 branches' inner layers.
fn block_17(b: &mut NetBuilder, x: &Value, c: usize, name: &str) -> Value {
    let s = Pad::Same;
    let branch1x1 = conv2d_bn(b, x, 192, [1, 1], 1, s, &format!("{name}_1x1"));

    let b7 = conv2d_bn(b, x, c, [1, 1], 1, s, &format!("{name}_7x7_1"));
    let b7 = conv2d_bn(b, &b7, c, [1, 7], 1, s, &format!("{name}_7x7_2"));
    let b7 = conv2d_bn(b, &b7, 192, [7, 1], 1, s, &format!("{name}_7x7_3"));

    let dbl = conv2d_bn(b, x, c, [1, 1], 1, s, &format!("{name}_7x7dbl_1"));
    let dbl = conv2d_bn(b, &dbl, c, [7, 1], 1, s, &format!("{name}_7x7dbl_2"));
    let dbl = conv2d_bn(b, &dbl, c, [1, 7], 1, s, &format!("{name}_7x7dbl_3"));
    let dbl = conv2d_bn(b, &dbl, c, [7, 1], 1, s, &format!("{name}_7x7dbl_4"));
    let dbl = conv2d_bn(b, &dbl, 192, [1, 7], 1, s, &format!("{name}_7x7dbl_5"));

    let pool = avg_pool_same(b, x, &format!("{name}_pool"));
    let pool = conv2d_bn(b, &pool, 192, [1, 1], 1, s, &format!("{name}_pool_proj"));
    b.concat(&[&branch1x1, &b7, &dbl, &pool], name)
}

/// mixed8: 17x17 -> 8x8 with strided 3x3 branches and a max pool.
fn reduction_b(b: &mut NetBuilder, x: &Value, name: &str) -> Value {
    let s = Pad::Same;
    let b3 = conv2d_bn(b, x, 192, [1, 1], 1, s, &format!("{name}_3x3_1"));
    let b3 = conv2d_bn(b, &b3, 320, [3, 3], 2, Pad::Valid, &format!("{name}_3x3_2"));

    let b7 = conv2d_bn(b, x, 192, [1, 1], 1, s, &format!("{name}_7x7x3_1"));
    let b7 = conv2d_bn(b, &b7, 192, [1, 7], 1, s, &format!("{name}_7x7x3_2"));
    let b7 = conv2d_bn(b, &b7, 192, [7, 1], 1, s, &format!("{name}_7x7x3_3"));
    let b7 = conv2d_bn(b, &b7, 192, [3, 3], 2, Pad::Valid, &format!("{name}_7x7x3_4"));

    let pool = b.pool(x, &format!("{name}_pool"), PoolKind::Max, 3, 2, Padding::VALID);
    b.concat(&[&b3, &b7, &pool], name)
}

/// mixed9-10: 1x1, split 3x3 (1x3 | 3x1), double split 3x3 and pooled branches at 8x8.
fn block_8(b: &mut NetBuilder, x: &Value, name: &str) -> Value {
    let s = Pad::Same;
    let branch1x1 = conv2d_bn(b, x, 320, [1, 1], 1, s, &format!("{name}_1x1"));

    let b3 = conv2d_bn(b, x, 384, [1, 1], 1, s, &format!("{name}_3x3_1"));
    let b3_1 = conv2d_bn(b, &b3, 384, [1, 3], 1, s, &format!("{name}_3x3_2a"));
    let b3_2 = conv2d_bn(b, &b3, 384, [3, 1], 1, s, &format!("{name}_3x3_2b"));
    let b3 = b.concat(&[&b3_1, &b3_2], &format!("{name}_3x3"));

    let dbl = conv2d_bn(b, x, 448, [1, 1], 1, s, &format!("{name}_3x3dbl_1"));
    let dbl = conv2d_bn(b, &dbl, 384, [3, 3], 1, s, &format!("{name}_3x3dbl_2"));
    let dbl_1 = conv2d_bn(b, &dbl, 384, [1, 3], 1, s, &format!("{name}_3x3dbl_3a"));
    let dbl_2 = conv2d_bn(b, &dbl, 384, [3, 1], 1, s, &format!("{name}_3x3dbl_3b"));
    let dbl = b.concat(&[&dbl_1, &dbl_2], &format!("{name}_3x3dbl"));

    let pool = avg_pool_same(b, x, &format!("{name}_pool"));
    let pool = conv2d_bn(b, &pool, 192, [1, 1], 1, s, &format!("{name}_pool_proj"));
    b.concat(&[&branch1x1, &b3, &dbl, &pool], name)
}

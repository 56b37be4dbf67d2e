//! `basic_squeezenet`: SqueezeNet 1.1 as `squeezenet_v11` in `shared/models/make_models.py`
//! defines it (Iandola et al., the v1.1 variant, NHWC, no batch norm).

use ferrolite_runtime::ir::{Activation, Graph, Padding, PoolKind};

use super::builder::{ConvSpec, NetBuilder, Value};

/// Input height and width.
pub(super) const SIZE: usize = 224;

/// Mirrors `make_models.squeezenet_v11((224, 224, 3))`: a ReLU in every convolution, valid
/// 3x3/2 max pools, fire modules 2-9, `drop9` (a no-op at inference, omitted), `conv10`,
/// global average pooling, softmax.
pub(super) fn build(seed: u64, classes: usize) -> Graph {
    let (mut b, input) = NetBuilder::new(super::SQUEEZENET, seed, SIZE);
    let x = b.conv(&input, "conv1", &relu_conv(64, 3).stride(2));
    let x = b.pool(&x, "pool1", PoolKind::Max, 3, 2, Padding::VALID);
    let x = fire(&mut b, &x, 16, 64, "fire2");
    let x = fire(&mut b, &x, 16, 64, "fire3");
    let x = b.pool(&x, "pool3", PoolKind::Max, 3, 2, Padding::VALID);
    let x = fire(&mut b, &x, 32, 128, "fire4");
    let x = fire(&mut b, &x, 32, 128, "fire5");
    let x = b.pool(&x, "pool5", PoolKind::Max, 3, 2, Padding::VALID);
    let x = fire(&mut b, &x, 48, 192, "fire6");
    let x = fire(&mut b, &x, 48, 192, "fire7");
    let x = fire(&mut b, &x, 64, 256, "fire8");
    let x = fire(&mut b, &x, 64, 256, "fire9");
    let x = b.conv(&x, "conv10", &relu_conv(classes, 1).logits());
    let x = b.global_avg_pool(&x, "pool10");
    let x = b.flatten(&x, "pool10_flatten");
    b.finish_softmax(&x, "prob")
}

/// `conv(filters, k)` of `make_models.py`: a biased convolution with a ReLU.
fn relu_conv(filters: usize, kernel: usize) -> ConvSpec {
    ConvSpec::new(filters, [kernel, kernel]).activation(Activation::Relu)
}

/// A fire module: a 1x1 squeeze, then 1x1 and 3x3 expands concatenated.
fn fire(b: &mut NetBuilder, x: &Value, squeeze: usize, expand: usize, name: &str) -> Value {
    let s = b.conv(x, &format!("{name}_squeeze1x1"), &relu_conv(squeeze, 1));
    let e1 = b.conv(&s, &format!("{name}_expand1x1"), &relu_conv(expand, 1));
    let e3 = b.conv(&s, &format!("{name}_expand3x3"), &relu_conv(expand, 3).same());
    b.concat(&[&e1, &e3], &format!("{name}_concat"))
}

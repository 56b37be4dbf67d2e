//! The built-in zoo: the five networks of MindSpore Lite's benchmark table, built directly
//! as Ferrolite IR graphs with seeded random weights.
//!
//! The architectures are those `shared/models/make_models.py` exports to ONNX and TFLite
//! (SqueezeNet 1.1 as defined there, and Keras' InceptionV3, MobileNet, MobileNetV2 and
//! ResNet50V2), layer for layer:
//!
//! - every convolution with its kernel, stride and padding (Keras `"same"` is
//!   [`Padding::SameUpper`](ferrolite_runtime::ir::Padding::SameUpper), `"valid"` no padding,
//!   and a `ZeroPadding2D` becomes the explicit padding of the convolution that follows it);
//!   depthwise convolutions are `Conv2d` with `groups == channels`;
//! - `BatchNormalization` as [`Op::BatchNorm`](ferrolite_runtime::ir::Op::BatchNorm) with
//!   the network's epsilon (the converter's passes fold it), followed by the separate ReLU
//!   or ReLU6 Keras applies;
//! - pooling as Keras does it (average pooling excludes the padding), concatenations,
//!   residual additions; ResNet's `pool1_pad` stays a `Pad` node, since its zeros can win
//!   the following max pool;
//! - the classifier head: `GlobalAveragePooling2D` as `GlobalPool` + `Flatten`, `Dense` as
//!   `Gemm` with `B` = the Keras kernel `[K, N]` (`trans_b = false`) and `C` = its bias,
//!   `Dropout` omitted (the identity at inference), and a final `Softmax` (Keras'
//!   `activation="softmax"` of the last layer).
//!
//! Every graph has one input `input` `[1, H, W, 3]` (NHWC, f32) and one output `output`
//! `[1, 1000]` (class probabilities). Every tensor carries its shape, nodes are in
//! topological order, and tensor and node names are unique. Weights come from the seeded
//! scheme below.
//!
//! [`summary`] reports the convolution and dense layers, the parameter count and the MACs
//! ([`stats`]); for these networks they equal Keras' exactly (`converter/tests/zoo.rs`
//! checks them against `testdata/zoo/*.json`, dumped from Keras by
//! `scripts/zoo_reference.py`), and the graphs compute what the Keras models compute with
//! the same weights (checked against `testdata/zoo/*_keras_probs.npy` from
//! `scripts/zoo_keras_outputs.py`).
//!
//! # Weights
//!
//! Convolution kernels are He-uniform, classifier kernels scaled for class scores of
//! standard deviation about 3, biases `U(-0.05, 0.05)`, batch-norm scale and shift drawn as
//! `make_models.py` draws them, and the batch norms' moving statistics computed from the
//! weights by propagating per-channel moments through the network (the stand-in for the
//! calibration batch `make_models.py` runs), so that activations stay O(1) and the softmax
//! is clearly peaked. Everything comes from one portable `Xoshiro256PlusPlus` stream per
//! network: the same `(name, seed)` gives the same graph on every platform.

mod builder;
mod inception_v3;
mod mobilenet_v1;
mod mobilenet_v2;
mod moments;
mod resnet_v2;
mod squeezenet;
pub mod stats;

use ferrolite_runtime::ir::Graph;

pub use stats::{LayerKind, LayerStats, Summary, summary};

use crate::{ConvertError, Result};

const SQUEEZENET: &str = "basic_squeezenet";
const INCEPTION_V3: &str = "inception_v3";
const MOBILENET_V1: &str = "mobilenet_v1_10_224";
const MOBILENET_V2: &str = "mobilenet_v2_10_224";
const RESNET_V2_50: &str = "resnet_v2_50";

/// The networks [`build`] knows, in the order of the benchmark table.
pub const NAMES: [&str; 5] = [SQUEEZENET, INCEPTION_V3, MOBILENET_V1, MOBILENET_V2, RESNET_V2_50];

/// Number of classes of every zoo network (ImageNet).
pub const CLASSES: usize = 1000;

/// Input height and width of network `name` (224, or 299 for `inception_v3`); `None` for
/// an unknown name.
pub fn input_size(name: &str) -> Option<usize> {
    match name {
        SQUEEZENET => Some(squeezenet::SIZE),
        INCEPTION_V3 => Some(inception_v3::SIZE),
        MOBILENET_V1 => Some(mobilenet_v1::SIZE),
        MOBILENET_V2 => Some(mobilenet_v2::SIZE),
        RESNET_V2_50 => Some(resnet_v2::SIZE),
        _ => None,
    }
}

/// Builds network `name` with weights drawn from `seed`.
///
/// An unknown name is an error that lists the valid ones.
pub fn build(name: &str, seed: u64) -> Result<Graph> {
    match name {
        SQUEEZENET => Ok(squeezenet::build(seed, CLASSES)),
        INCEPTION_V3 => Ok(inception_v3::build(seed, CLASSES)),
        MOBILENET_V1 => Ok(mobilenet_v1::build(seed, CLASSES)),
        MOBILENET_V2 => Ok(mobilenet_v2::build(seed, CLASSES)),
        RESNET_V2_50 => Ok(resnet_v2::build(seed, CLASSES)),
        _ => Err(ConvertError::Invalid {
            format: "zoo",
            msg: format!("unknown network \"{name}\"; the zoo has {}", NAMES.join(", ")),
        }),
    }
}

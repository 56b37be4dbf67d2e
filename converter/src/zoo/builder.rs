//! The graph builder behind the zoo networks: one method per Keras layer type, shapes
//! computed as the layers are added, and the seeded weight scheme.
//!
//! # Weights
//!
//! One [`Xoshiro256PlusPlus`] stream per network (a portable generator: the same seed gives
//! the same weights on every platform and `rand` release), seeded with
//! `seed ^ fnv1a64(network name)` so that the five networks differ under one seed. Values
//! are drawn in layer order, every tensor from a uniform distribution `U(lo, hi)`
//! (`lo + (hi - lo) * u` with `u` a 24-bit fraction, two per 64-bit draw):
//!
//! - convolution kernels: He-uniform, `U(-l, l)` with `l = sqrt(6 / fan_in)`
//!   (`fan_in = KH * KW * C / groups`), so the second moment of the activations is carried
//!   through a ReLU stack unchanged;
//! - classifier kernels (the `Dense` layers, SqueezeNet's `conv10`, MobileNet's
//!   `conv_preds`): `U(-l, l)` with `l` chosen for class scores of standard deviation
//!   [`LOGIT_STD`] given the features' estimated mean square, so that the softmax is
//!   clearly peaked (He's scale leaves the MobileNets' softmax nearly uniform);
//! - biases: `U(-0.05, 0.05)`, as `make_models.py` initializes SqueezeNet's;
//! - batch norm: `gamma ~ U(0.5, 1.5)` (1 when the layer has no scale) and
//!   `beta ~ U(-0.2, 0.2)` as `make_models.py` draws them; the moving mean and variance are
//!   the per-channel statistics of the layer's input as [`moments`]
//!   estimates them from the weights drawn so far (where `make_models.py` runs a
//!   calibration batch), so every normalized output is about `N(beta, gamma^2)`.

use std::collections::HashSet;

use ferrolite_runtime::ir::{
    Activation, AlignedBytes, BatchNorm, ConstData, DType, Dim, Gemm, Graph, Op, Pad, PadMode, Padding, Pool2d,
    PoolKind, TensorId, TensorInfo, Unary,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

use super::moments::{self, Moments, TapOverlap};
use super::stats;

/// An activation flowing through the network under construction.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    /// The graph tensor.
    pub id: TensorId,
    /// Its shape (NHWC for feature maps, `[1, K]` after the classifier's flatten).
    pub shape: Vec<usize>,
    /// Estimated per-channel statistics (they set the batch norms' moving statistics).
    moments: Moments,
}

impl Value {
    /// Channels: the last dimension.
    pub fn channels(&self) -> usize {
        self.shape.last().copied().unwrap_or(0)
    }

    /// Height and width of an NHWC feature map.
    fn hw(&self) -> [usize; 2] {
        match self.shape.as_slice() {
            [_, h, w, _] => [*h, *w],
            _ => [0, 0],
        }
    }
}

/// How a convolution is configured, in Keras terms.
#[derive(Debug, Clone)]
pub(crate) struct ConvSpec {
    filters: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: Padding,
    depthwise: bool,
    bias: bool,
    activation: Activation,
    logits: bool,
}

impl ConvSpec {
    /// `Conv2D(filters, kernel)` with Keras' defaults: stride 1, `padding="valid"`, a bias,
    /// no activation.
    pub fn new(filters: usize, kernel: [usize; 2]) -> Self {
        ConvSpec {
            filters,
            kernel,
            stride: [1, 1],
            padding: Padding::VALID,
            depthwise: false,
            bias: true,
            activation: Activation::None,
            logits: false,
        }
    }

    /// `DepthwiseConv2D(kernel)` (depth multiplier 1): one group per input channel.
    pub fn depthwise(kernel: [usize; 2]) -> Self {
        ConvSpec { depthwise: true, ..ConvSpec::new(0, kernel) }
    }

    /// `strides=(s, s)`.
    pub fn stride(self, s: usize) -> Self {
        ConvSpec { stride: [s, s], ..self }
    }

    /// `padding="same"`.
    pub fn same(self) -> Self {
        ConvSpec { padding: Padding::SameUpper, ..self }
    }

    /// The amounts of a `ZeroPadding2D` layer right before a `padding="valid"` convolution.
    pub fn zero_pad(self, top: usize, left: usize, bottom: usize, right: usize) -> Self {
        ConvSpec { padding: Padding::Explicit { top, left, bottom, right }, ..self }
    }

    /// `use_bias=False`.
    pub fn no_bias(self) -> Self {
        ConvSpec { bias: false, ..self }
    }

    /// `activation=...` of the convolution layer itself.
    pub fn activation(self, activation: Activation) -> Self {
        ConvSpec { activation, ..self }
    }

    /// The layer computes the class logits: its kernel gets the classifier scale (see the
    /// module docs) instead of He's.
    pub fn logits(self) -> Self {
        ConvSpec { logits: true, ..self }
    }
}

/// Builds one network: owns the graph and the weight stream.
pub(crate) struct NetBuilder {
    graph: Graph,
    rng: Xoshiro256PlusPlus,
    /// Names given out so far (tensors and nodes share one namespace, as in Keras).
    names: HashSet<String>,
}

/// FNV-1a, 64 bit: mixes the network name into the seed.
fn fnv1a64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Output size of a convolution or pooling window along one axis.
fn out_size(input: usize, kernel: usize, stride: usize, dilation: usize, pad_total: usize) -> usize {
    let extent = (kernel - 1) * dilation + 1;
    (input + pad_total - extent) / stride + 1
}

/// Output height and width of a window operator.
fn window_out(hw: [usize; 2], kernel: [usize; 2], stride: [usize; 2], padding: Padding) -> [usize; 2] {
    match padding {
        Padding::Explicit { top, left, bottom, right } => [
            out_size(hw[0], kernel[0], stride[0], 1, top + bottom),
            out_size(hw[1], kernel[1], stride[1], 1, left + right),
        ],
        Padding::SameUpper | Padding::SameLower => [hw[0].div_ceil(stride[0]), hw[1].div_ceil(stride[1])],
    }
}

/// Half-width of the uniform classifier kernel that gives class scores of standard
/// deviation [`LOGIT_STD`] for `fan_in` inputs of mean square `mean_sq`:
/// `fan_in * l^2 / 3 * mean_sq = LOGIT_STD^2`.
fn logits_limit(fan_in: usize, mean_sq: f32) -> f32 {
    LOGIT_STD * (3.0 / (fan_in as f32 * mean_sq.max(1e-6))).sqrt()
}

/// Target standard deviation of the class scores: a softmax over 1000 classes that is
/// clearly peaked without being one-hot.
const LOGIT_STD: f32 = 3.0;

impl NetBuilder {
    /// Starts network `name` with the NHWC input `input [1, size, size, 3]`.
    pub fn new(name: &str, seed: u64, size: usize) -> (Self, Value) {
        let mut b = NetBuilder {
            graph: Graph::default(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ fnv1a64(name)),
            names: HashSet::new(),
        };
        // Inputs drawn from [-1, 1] (Keras' preprocessing range): mean 0, variance 1/3.
        let input = b.value("input", vec![1, size, size, 3], Moments::uniform(3, 0.0, 1.0 / 3.0));
        b.graph.inputs.push(input.id);
        (b, input)
    }

    /// Claims a tensor or node name; two layers with one name are a bug in a network
    /// definition, caught by the zoo's tests on every network.
    fn claim(&mut self, name: &str) -> String {
        let fresh = self.names.insert(name.to_string());
        debug_assert!(fresh, "zoo: name {name:?} used twice");
        name.to_string()
    }

    /// Adds an activation tensor of known shape.
    fn value(&mut self, name: &str, shape: Vec<usize>, moments: Moments) -> Value {
        let name = self.claim(name);
        let id = self.graph.add_tensor(TensorInfo {
            name,
            dtype: DType::F32,
            shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
            data: None,
        });
        Value { id, shape, moments }
    }

    /// Adds node `name` whose single output tensor is also called `name`.
    fn node(
        &mut self,
        name: &str,
        op: Op,
        inputs: Vec<Option<TensorId>>,
        shape: Vec<usize>,
        moments: Moments,
    ) -> Value {
        let out = self.value(name, shape, moments);
        self.graph.add_node(name, op, inputs, vec![out.id]);
        out
    }

    /// An f32 constant of `shape` filled from `U(lo, hi)`, written straight into its
    /// aligned buffer. Each 64-bit draw gives two values (bits 40..64, then bits 8..32, as
    /// 24-bit fractions): half the generator calls of one draw per value.
    fn uniform(&mut self, name: &str, shape: &[usize], lo: f32, hi: f32) -> TensorId {
        let count: usize = shape.iter().product();
        let mut bytes = AlignedBytes::zeroed(count * 4);
        // The buffer is 64-byte aligned and exactly `count * 4` bytes long.
        let values: &mut [f32] = bytemuck::cast_slice_mut(bytes.as_mut_slice());
        let span = hi - lo;
        let unit = |bits: u64| (bits & 0xff_ffff) as f32 * (1.0 / (1u32 << 24) as f32);
        let mut pairs = values.chunks_exact_mut(2);
        for pair in &mut pairs {
            let bits = self.rng.next_u64();
            pair[0] = lo + span * unit(bits >> 40);
            pair[1] = lo + span * unit(bits >> 8);
        }
        if let [last] = pairs.into_remainder() {
            *last = lo + span * unit(self.rng.next_u64() >> 40);
        }
        let name = self.claim(name);
        self.graph.add_const(name, DType::F32, shape, ConstData::owned(bytes))
    }

    /// An f32 constant holding `values`.
    fn constant(&mut self, name: &str, shape: &[usize], values: &[f32]) -> TensorId {
        let name = self.claim(name);
        self.graph.add_const_f32(name, shape, values)
    }

    /// The values of an f32 constant this builder made.
    fn values(&self, id: TensorId) -> &[f32] {
        self.graph.tensors.get(id).and_then(|t| t.data.as_ref()).and_then(|d| d.as_f32()).unwrap_or(&[])
    }

    /// `Conv2D` / `DepthwiseConv2D` named `name` (weights `name/kernel`, `name/bias`).
    pub fn conv(&mut self, x: &Value, name: &str, spec: &ConvSpec) -> Value {
        let channels = x.channels();
        let (filters, groups) = if spec.depthwise { (channels, channels) } else { (spec.filters, 1) };
        let per_group = channels / groups;
        let fan_in = spec.kernel[0] * spec.kernel[1] * per_group;
        let input = x.moments.materialized();
        let limit = if spec.logits { logits_limit(fan_in, input.mean_square()) } else { (6.0 / fan_in as f32).sqrt() };
        let kernel = self.uniform(
            &format!("{name}/kernel"),
            &[filters, spec.kernel[0], spec.kernel[1], per_group],
            -limit,
            limit,
        );
        let bias = spec.bias.then(|| self.uniform(&format!("{name}/bias"), &[filters], -0.05, 0.05));
        let [h, w] = x.hw();
        let [oh, ow] = window_out([h, w], spec.kernel, spec.stride, spec.padding);
        let [top, left, _, _] = stats::resolve_padding(spec.padding, [h, w], spec.kernel, spec.stride, [1, 1]);
        let taps = TapOverlap::new([h, w], spec.kernel, spec.stride, [top, left], [oh, ow]);
        let bias_values = bias.map(|b| self.values(b));
        let moments = moments::conv(&input, self.values(kernel), bias_values, filters, per_group, &taps)
            .activate(spec.activation);
        let op = Op::Conv2d(ferrolite_runtime::ir::Conv2d {
            kernel: spec.kernel,
            stride: spec.stride,
            dilation: [1, 1],
            padding: spec.padding,
            groups,
            activation: spec.activation,
        });
        let mut inputs = vec![Some(x.id), Some(kernel)];
        if bias.is_some() {
            inputs.push(bias);
        }
        self.node(name, op, inputs, vec![1, oh, ow, filters], moments)
    }

    /// `BatchNormalization(epsilon, scale)` over the channel axis (parameters `name/gamma`,
    /// `name/beta`, `name/moving_mean`, `name/moving_variance`; see the module docs).
    pub fn batch_norm(&mut self, x: &Value, name: &str, epsilon: f32, scale: bool) -> Value {
        let c = [x.channels()];
        let gamma = if scale {
            self.uniform(&format!("{name}/gamma"), &c, 0.5, 1.5)
        } else {
            self.constant(&format!("{name}/gamma"), &c, &vec![1.0; c[0]])
        };
        let beta = self.uniform(&format!("{name}/beta"), &c, -0.2, 0.2);
        let (in_mean, mut in_var) = x.moments.materialize();
        // A channel the estimate calls (nearly) constant would be scaled up enormously by
        // the smallest error; floor its variance at a hundredth of the average.
        let floor = 0.01 * in_var.iter().sum::<f32>() / in_var.len().max(1) as f32;
        for v in &mut in_var {
            *v = v.max(floor).max(1e-6);
        }
        let mean = self.constant(&format!("{name}/moving_mean"), &c, &in_mean);
        let var = self.constant(&format!("{name}/moving_variance"), &c, &in_var);
        // Normalized with the input's own statistics: N(beta, gamma^2 * var / (var + eps)).
        let out_var = self.values(gamma).iter().zip(&in_var).map(|(g, v)| g * g * v / (v + epsilon)).collect();
        let moments = Moments::gaussian(self.values(beta).to_vec(), out_var);
        let op = Op::BatchNorm(BatchNorm { epsilon, axis: -1 });
        self.node(name, op, vec![Some(x.id), Some(gamma), Some(beta), Some(mean), Some(var)], x.shape.clone(), moments)
    }

    /// `ReLU()` / `Activation("relu")`.
    pub fn relu(&mut self, x: &Value, name: &str) -> Value {
        self.activation(x, name, Activation::Relu)
    }

    /// `ReLU(6.0)`.
    pub fn relu6(&mut self, x: &Value, name: &str) -> Value {
        self.activation(x, name, Activation::Relu6)
    }

    fn activation(&mut self, x: &Value, name: &str, activation: Activation) -> Value {
        let moments = x.moments.activate(activation);
        self.node(name, Op::Unary(Unary::Act(activation)), vec![Some(x.id)], x.shape.clone(), moments)
    }

    /// `MaxPooling2D` / `AveragePooling2D`. Keras' average pooling divides by the number of
    /// pixels inside the input (padding excluded).
    pub fn pool(
        &mut self,
        x: &Value,
        name: &str,
        kind: PoolKind,
        kernel: usize,
        stride: usize,
        padding: Padding,
    ) -> Value {
        let (kernel, stride) = ([kernel, kernel], [stride, stride]);
        let [oh, ow] = window_out(x.hw(), kernel, stride, padding);
        let op = Op::Pool2d(Pool2d {
            kind,
            kernel,
            stride,
            dilation: [1, 1],
            padding,
            ceil_mode: false,
            count_include_pad: false,
        });
        let moments = match kind {
            PoolKind::Max => x.moments.max_of(kernel[0] * kernel[1]),
            PoolKind::Avg => x.moments.average_of(kernel[0] * kernel[1]),
        };
        self.node(name, op, vec![Some(x.id)], vec![1, oh, ow, x.channels()], moments)
    }

    /// `ZeroPadding2D(((top, bottom), (left, right)))` as a `Pad` node, for the one place
    /// where it cannot fold into the next layer: before a max pool whose input can be
    /// negative, the zeros take part in the maximum (a pool's own padding never wins it).
    pub fn zero_pad(&mut self, x: &Value, name: &str, top: usize, left: usize, bottom: usize, right: usize) -> Value {
        let [h, w] = x.hw();
        let pads = [0, top, left, 0, 0, bottom, right, 0].map(|p| p as i64).to_vec();
        let op = Op::Pad(Pad { mode: PadMode::Constant, pads, value: 0.0 });
        let shape = vec![1, h + top + bottom, w + left + right, x.channels()];
        self.node(name, op, vec![Some(x.id)], shape, x.moments.clone())
    }

    /// `Concatenate(axis=-1)`.
    pub fn concat(&mut self, xs: &[&Value], name: &str) -> Value {
        let channels: usize = xs.iter().map(|x| x.channels()).sum();
        // Channels that share an activation stay in the lazy form (a max pool may follow).
        let act = xs.first().map(|x| x.moments.act).unwrap_or_default();
        let same_act = xs.iter().all(|x| x.moments.act == act);
        let parts: Vec<Moments> =
            xs.iter().map(|x| if same_act { x.moments.clone() } else { x.moments.materialized() }).collect();
        let moments = Moments {
            mean: parts.iter().flat_map(|m| m.mean.iter().copied()).collect(),
            var: parts.iter().flat_map(|m| m.var.iter().copied()).collect(),
            act: parts.first().map(|m| m.act).unwrap_or_default(),
        };
        let mut shape = xs.first().map(|x| x.shape.clone()).unwrap_or_default();
        if let Some(last) = shape.last_mut() {
            *last = channels;
        }
        let inputs = xs.iter().map(|x| Some(x.id)).collect();
        self.node(name, Op::Concat { axis: -1 }, inputs, shape, moments)
    }

    /// `Add()` of two tensors of one shape (taken as independent: means and variances add).
    pub fn add(&mut self, a: &Value, b: &Value, name: &str) -> Value {
        let (a_mean, a_var) = a.moments.materialize();
        let (b_mean, b_var) = b.moments.materialize();
        let mean = a_mean.iter().zip(&b_mean).map(|(x, y)| x + y).collect();
        let var = a_var.iter().zip(&b_var).map(|(x, y)| x + y).collect();
        let op = Op::Binary(ferrolite_runtime::ir::Binary::Add);
        self.node(name, op, vec![Some(a.id), Some(b.id)], a.shape.clone(), Moments::gaussian(mean, var))
    }

    /// The pooling half of `GlobalAveragePooling2D`: `[1, H, W, C] -> [1, 1, 1, C]` (what
    /// Keras' `keepdims=True` gives; [`NetBuilder::flatten`] drops the unit axes).
    pub fn global_avg_pool(&mut self, x: &Value, name: &str) -> Value {
        let [h, w] = x.hw();
        let moments = x.moments.average_of(h * w);
        self.node(name, Op::GlobalPool(PoolKind::Avg), vec![Some(x.id)], vec![1, 1, 1, x.channels()], moments)
    }

    /// `[1, 1, 1, C] -> [1, C]`, the shape Keras' `GlobalAveragePooling2D` returns.
    pub fn flatten(&mut self, x: &Value, name: &str) -> Value {
        self.node(name, Op::Flatten { axis: 1 }, vec![Some(x.id)], vec![1, x.channels()], x.moments.clone())
    }

    /// `Reshape(shape[1..])` with batch 1 (target shape in `name/shape`).
    pub fn reshape(&mut self, x: &Value, name: &str, shape: &[usize]) -> Value {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let target_name = self.claim(&format!("{name}/shape"));
        let target = self.graph.add_const_i64(target_name, &[dims.len()], &dims);
        self.node(
            name,
            Op::Reshape { allow_zero: false },
            vec![Some(x.id), Some(target)],
            shape.to_vec(),
            x.moments.clone(),
        )
    }

    /// `Dense(units)` without its activation, as `Gemm` with `B = name/kernel [K, N]` (Keras'
    /// own kernel layout, `trans_b = false`) and `C = name/bias [N]`. The zoo's dense layers
    /// are classifiers: the kernel gets the classifier scale.
    pub fn dense(&mut self, x: &Value, name: &str, units: usize) -> Value {
        let k = x.channels();
        let input = x.moments.materialized();
        let limit = logits_limit(k, input.mean_square());
        let kernel = self.uniform(&format!("{name}/kernel"), &[k, units], -limit, limit);
        let bias = self.uniform(&format!("{name}/bias"), &[units], -0.05, 0.05);
        let op = Op::Gemm(Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false, activation: Activation::None });
        // The scores' spread is what the kernel scale aims at; nothing downstream needs more.
        let moments = Moments::uniform(units, 0.0, LOGIT_STD * LOGIT_STD);
        self.node(name, op, vec![Some(x.id), Some(kernel), Some(bias)], vec![1, units], moments)
    }

    /// Ends the network with a softmax over the last axis, node `name`, whose output is
    /// the graph output `output`.
    pub fn finish_softmax(mut self, logits: &Value, name: &str) -> Graph {
        let out = self.value("output", logits.shape.clone(), logits.moments.clone());
        let node = self.claim(name);
        self.graph.add_node(node, Op::Softmax { axis: -1 }, vec![Some(logits.id)], vec![out.id]);
        self.graph.outputs.push(out.id);
        self.graph
    }
}

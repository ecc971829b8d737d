"""Networks: a subclassed Generator G(z, c) and a Discriminator whose shared body feeds D and Q.

Four architectures:
- `mnist`: exactly the paper's MNIST networks (arXiv:1606.03657, Appendix C, Table 1) and the
  original code: G = FC1024-BN-ReLU, FC7x7x128-BN-ReLU, deconv4x4 64 s2-BN-ReLU, deconv4x4 1 s2;
  D = conv4x4 64 s2-lReLU, conv4x4 128 s2-BN-lReLU, FC1024-BN-lReLU; heads D: FC1 and
  Q: FC128-BN-lReLU -> code parameters.
- `chairs`: the paper's 3D chairs networks (Appendix C): G = FC1024-BN-ReLU, FC8x8x256-BN-ReLU,
  deconv4x4 256 s1, 256 s1, 128 s2, 64 s2 (BN-ReLU), deconv4x4 1 s2; D = conv4x4 64 s2-lReLU,
  conv 128 s2, 256 s2, 256 s1, 256 s1 (BN-lReLU), FC1024-BN-lReLU; D and Q share the whole network and
  differ only in the output units (Appendix C.4, C.5: `q_hidden=0` in the chairs and faces presets).
- `svhn`: the paper's SVHN / CelebA networks for 32x32 colour images (Appendix C): G = FC2x2x448-BN-ReLU,
  deconv4x4 256 s2-BN-ReLU, 128 s2-ReLU, 64 s2-ReLU, deconv4x4 3 s2; D = conv4x4 64 s2-lReLU, 128 s2
  and 256 s2 (BN-lReLU), no shared FC layer: the D head and Q's FC128 read the flattened conv features.
  The paper's last activation is tanh; ours is a sigmoid for [0, 1] images (the same up to scale).
- `dcgan64`: for 64x64 binary images (the `shapes` data): G = FC128-BN-ReLU, FC4x4x64-BN-ReLU,
  deconv 64-32-32 (BN-ReLU), deconv 1, as the dSprites generators of FactorVAE / InfoGAN-CR;
  D = conv 32-64-128 s2 (BN after the first), FC1024-BN-lReLU, the MNIST heads. Measured here
  (BUILD_NOTES.md): with their narrow D (conv 32-32-64-64, FC128) G still made noise after 500
  steps; this wider D makes shapes by then, and the small G keeps the step cheap on a CPU.
- `infogan_cr`: InfoGAN-CR's dSprites networks (fjxmlzn/InfoGAN-CR, gan/network.py, gan/op.py):
  G = FC128, FC4x4x64 (ReLU then BN), deconv 64-32-32 s2 (lReLU 0.2 then BN), deconv 1 s2, sigmoid;
  D = conv4x4 32-32-64-64 s2 and FC128, lReLU 0.2, no batch norm; D head FC1, Q = FC128-lReLU ->
  code means. Its contrastive-regulariser classifier is in `infogan_tf.regularisers.contrastive`.

`spectral_norm=True` wraps every D/Q kernel in `SpectralNorm` (Miyato et al. 2018): the layer uses
W / sigma(W), sigma from one power iteration per call, and the gradient passes through sigma.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf
from keras import layers

from infogan_tf.latent import LatentSpec

LEAKY_SLOPE = 0.1  # lReLU slope, as Appendix C states.
BN_MOMENTUM = 0.9  # moving-average decay 0.9 as tf.contrib / the original code (Keras: 0.99).
BN_EPSILON = 1e-5
LOG_STD_RANGE = (-4.0, 2.0)  # clamp for `q_std=learned`: sigma in [0.018, 7.4] keeps L_I finite.

# Per architecture: G's FC width (None: no first FC layer), first spatial size and channels, then the
# ReLU deconvs as (channels, stride[, batch norm: default True]) (a last stride-2 deconv makes the
# image); D's 4x4 convs as (channels, stride) (the first without BN, as DCGAN) and the shared FC width
# (None: D and Q read the flattened conv features). Q's own hidden layer is `Config.q_hidden`.
_ARCH = {
    "mnist": {
        "g_fc": 1024,
        "g_start": (7, 128),
        "g_deconv": ((64, 2),),
        "d_conv": ((64, 2), (128, 2)),
        "d_fc": 1024,
    },
    "chairs": {
        "g_fc": 1024,
        "g_start": (8, 256),
        "g_deconv": ((256, 1), (256, 1), (128, 2), (64, 2)),
        "d_conv": ((64, 2), (128, 2), (256, 2), (256, 1), (256, 1)),
        "d_fc": 1024,
    },
    "svhn": {
        "g_fc": None,
        "g_start": (2, 448),
        "g_deconv": ((256, 2), (128, 2, False), (64, 2, False)),
        "d_conv": ((64, 2), (128, 2), (256, 2)),
        "d_fc": None,
    },
    "dcgan64": {
        "g_fc": 128,
        "g_start": (4, 64),
        "g_deconv": ((64, 2), (32, 2), (32, 2)),
        "d_conv": ((32, 2), (64, 2), (128, 2)),
        "d_fc": 1024,
    },
    # act_first: activation, then batch norm (their op order); g_leaky: G's deconvs use lReLU;
    # leaky: the lReLU slope; d_bn: whether D and Q batch-normalise (`Config.d_batch_norm` overrides).
    "infogan_cr": {
        "g_fc": 128,
        "g_start": (4, 64),
        "g_deconv": ((64, 2), (32, 2), (32, 2)),
        "d_conv": ((32, 2), (32, 2), (64, 2), (64, 2)),
        "d_fc": 128,
        "act_first": True,
        "g_leaky": True,
        "leaky": 0.2,
        "d_bn": False,
    },
}


class BatchNormalization(layers.BatchNormalization):
    """Keras' BatchNormalization, whose training-mode call can leave the moving statistics alone.

    D normalises real and fake batches alike in training, but its moving statistics are what Q reads
    real images with in inference mode (eval.json's accuracy, the export's `encode`, the explorer).
    Updated on every batch D sees, they would describe a mix that is 2/3 fake images.
    """

    def call(self, inputs, training=None, update_statistics=True):
        if update_statistics or not (training and self.trainable):
            return super().call(inputs, training=training)
        # The batch's own moments, as the parent computes them in training, without the assign.
        x = keras.ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = keras.ops.moments(x, axes=list(range(len(x.shape) - 1)), synchronized=self.synchronized)
        outputs = keras.ops.batch_normalization(
            x,
            mean,
            variance,
            axis=-1,
            offset=keras.ops.cast(self.beta, x.dtype),
            scale=keras.ops.cast(self.gamma, x.dtype),
            epsilon=self.epsilon,
        )
        return keras.ops.cast(outputs, self.compute_dtype)


def kernel_initializer(weight_init: str):
    """A new initializer per layer: Keras' default (Glorot uniform), or DCGAN's N(0, 0.02) (`dcgan`),
    which the original InfoGAN code uses for every kernel."""
    return keras.initializers.RandomNormal(0.0, 0.02) if weight_init == "dcgan" else "glorot_uniform"


def d_batch_norm(architecture: str, batch_norm: bool | None) -> bool:
    """Whether D and Q batch-normalise: `batch_norm` (`--[no]d_batch_norm`) when set, else the architecture's choice."""
    return _ARCH[architecture].get("d_bn", True) if batch_norm is None else batch_norm


def _batch_norm(sync: bool, name: str) -> BatchNormalization:
    # Synchronised BN keeps moving statistics identical on mirrored replicas and normalises over
    # the global batch, so N replicas compute what one device would.
    return BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, synchronized=sync, name=name)


class SpectralNorm(layers.Wrapper):
    """A Dense or Conv2D layer whose kernel W is used as W / sigma(W) (Miyato et al. 2018, as InfoGAN-CR's
    and Miyato's code): W itself is the trained variable and the gradient flows through sigma.

    sigma comes from one power iteration per call from `vector_u`, which a training call stores. Keras'
    `SpectralNormalization` instead writes W / sigma back into W, without a gradient through sigma; with
    InfoGAN-CR's learning rates that collapsed Q's kernels towards rank one here (BUILD_NOTES.md).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, (layers.Dense, layers.Conv2D)):
            raise TypeError(f"SpectralNorm wraps a Dense or Conv2D layer, not {type(layer).__name__}.")
        super().__init__(layer, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        self.vector_u = self.add_weight(
            shape=(1, self.layer.kernel.shape[-1]),
            initializer=keras.initializers.RandomNormal(),
            trainable=False,
            name="vector_u",
        )

    def normalized_kernel(self, training=False):
        """W / sigma(W), sigma from one power iteration (stored in `vector_u` if `training`)."""
        kernel = self.layer.kernel
        matrix = keras.ops.reshape(kernel, (-1, kernel.shape[-1]))
        v = keras.ops.normalize(keras.ops.matmul(self.vector_u.value, keras.ops.transpose(matrix)), axis=-1)
        u = keras.ops.normalize(keras.ops.matmul(v, matrix), axis=-1)
        u, v = keras.ops.stop_gradient(u), keras.ops.stop_gradient(v)
        if training:
            self.vector_u.assign(u)
        sigma = keras.ops.sum(keras.ops.matmul(v, matrix) * u)
        return kernel / sigma

    def call(self, inputs, training=False):
        layer = self.layer
        kernel = keras.ops.cast(self.normalized_kernel(training), self.compute_dtype)
        if isinstance(layer, layers.Conv2D):
            outputs = keras.ops.conv(
                inputs,
                kernel,
                strides=layer.strides,
                padding=layer.padding,
                data_format=layer.data_format,
                dilation_rate=layer.dilation_rate,
            )
        else:
            outputs = keras.ops.matmul(inputs, kernel)
        if layer.use_bias:
            outputs = outputs + keras.ops.cast(layer.bias, self.compute_dtype)
        return layer.activation(outputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def maybe_spectral_norm(layer, enabled: bool, **kwargs):
    """`layer` inside `SpectralNorm` if `enabled`."""
    return SpectralNorm(layer, name=layer.name, **kwargs) if enabled else layer


class Generator(keras.Model):
    """G(z, c): latent batch dict -> images in [0, 1] of `image_shape`."""

    def __init__(
        self,
        spec: LatentSpec,
        architecture: str,
        image_shape,
        sync_bn: bool = False,
        weight_init="keras",
        noise_scale: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.spec = spec
        self.noise_scale = noise_scale  # G reads noise_scale * z
        init = functools.partial(kernel_initializer, weight_init)
        arch = _ARCH[architecture]
        size, channels = arch["g_start"]
        # Batch norm after the activation (InfoGAN-CR's order) leaves the bias before it a role.
        self.act_first = arch.get("act_first", False)
        self.deconv_slope = arch["leaky"] if arch.get("g_leaky") else None
        self.has_fc1 = arch["g_fc"] is not None
        if self.has_fc1:
            self.fc1 = layers.Dense(arch["g_fc"], use_bias=self.act_first, kernel_initializer=init(), name="fc1")
            self.bn1 = _batch_norm(sync_bn, "bn1")
        self.fc2 = layers.Dense(size * size * channels, use_bias=self.act_first, kernel_initializer=init(), name="fc2")
        self.bn2 = _batch_norm(sync_bn, "bn2")
        self.reshape = layers.Reshape((size, size, channels))
        # One attribute per layer, not a list: tf.train.Checkpoint does not track Keras 3's list
        # wrappers, so list-held layers were saved only through the optimiser (their BN moving
        # statistics not at all) and a G restored without optimisers kept random deconv kernels.
        self.num_deconvs = len(arch["g_deconv"])
        self.deconv_has_bn = tuple(bn[0] if bn else True for _, _, *bn in arch["g_deconv"])
        for i, (filters, stride, *_) in enumerate(arch["g_deconv"]):
            has_bn = self.deconv_has_bn[i]
            deconv = layers.Conv2DTranspose(
                filters,
                4,
                strides=stride,
                padding="same",
                use_bias=self.act_first or not has_bn,
                kernel_initializer=init(),
                name=f"deconv{i}",
            )
            setattr(self, f"deconv{i}", deconv)
            if has_bn:
                setattr(self, f"deconv_bn{i}", _batch_norm(sync_bn, f"deconv_bn{i}"))
        self.to_image = layers.Conv2DTranspose(
            image_shape[-1], 4, strides=2, padding="same", kernel_initializer=init(), name="to_image"
        )
        # Sigmoid in float32 so mixed precision never clips the [0, 1] images.
        self.sigmoid = layers.Activation("sigmoid", dtype="float32", name="sigmoid")

    def _block(self, x, bn, training, slope=None):
        """The activation (ReLU, or lReLU with `slope`) and batch norm `bn` (None: none), in the
        architecture's order."""
        activation = keras.ops.relu if slope is None else functools.partial(keras.ops.leaky_relu, negative_slope=slope)
        if bn is None:
            return activation(x)
        if self.act_first:
            return bn(activation(x), training=training)
        return activation(bn(x, training=training))

    def call(self, latent, training=False):
        x = self.spec.generator_input(latent, self.noise_scale)
        if self.has_fc1:
            x = self._block(self.fc1(x), self.bn1, training)
        x = self.reshape(self._block(self.fc2(x), self.bn2, training))
        for i in range(self.num_deconvs):
            bn = getattr(self, f"deconv_bn{i}") if self.deconv_has_bn[i] else None
            x = self._block(getattr(self, f"deconv{i}")(x), bn, training, self.deconv_slope)
        return self.sigmoid(self.to_image(x))


class Discriminator(keras.Model):
    """Shared conv body -> `logit` D(x) [B], its `features`, and Q(c|x): `cat_logits`, `cont_mean`[, `cont_log_std`],
    and `q_features`, what Q's output units read (Q's own hidden layer, or the shared features)."""

    def __init__(
        self,
        spec: LatentSpec,
        architecture: str,
        q_std: str = "fixed",
        sync_bn: bool = False,
        weight_init="keras",
        q_hidden: int = 128,
        spectral_norm: bool = False,
        batch_norm: bool | None = None,
        leaky_slope: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.spec = spec
        init = functools.partial(kernel_initializer, weight_init)
        sn = functools.partial(maybe_spectral_norm, enabled=spectral_norm)
        self.learned_std = q_std == "learned"
        arch = _ARCH[architecture]
        self.slope = arch.get("leaky", LEAKY_SLOPE) if leaky_slope is None else leaky_slope
        self.has_bn = d_batch_norm(architecture, batch_norm)
        self.num_convs = len(arch["d_conv"])
        for i, (filters, stride) in enumerate(arch["d_conv"]):
            conv = layers.Conv2D(
                filters,
                4,
                strides=stride,
                padding="same",
                use_bias=i == 0 or not self.has_bn,
                kernel_initializer=init(),
                name=f"conv{i}",
            )
            setattr(self, f"conv{i}", sn(conv))
            if i > 0 and self.has_bn:
                setattr(self, f"conv_bn{i}", _batch_norm(sync_bn, f"conv_bn{i}"))
        self.flatten = layers.Flatten()
        self.has_fc = arch["d_fc"] is not None
        if self.has_fc:
            self.fc = sn(layers.Dense(arch["d_fc"], use_bias=not self.has_bn, kernel_initializer=init(), name="fc"))
            if self.has_bn:
                self.fc_bn = _batch_norm(sync_bn, "fc_bn")
        self.d_head = sn(layers.Dense(1, dtype="float32", kernel_initializer=init(), name="d_head"), dtype="float32")
        self.q_hidden = q_hidden
        if q_hidden:
            self.q_fc = sn(layers.Dense(q_hidden, use_bias=not self.has_bn, kernel_initializer=init(), name="q_fc"))
            if self.has_bn:
                self.q_bn = _batch_norm(sync_bn, "q_bn")
        n_params = sum(spec.categorical) + spec.continuous * (2 if self.learned_std else 1)
        self.q_head = sn(
            layers.Dense(max(n_params, 1), dtype="float32", kernel_initializer=init(), name="q_head"), dtype="float32"
        )

    def call(self, images, training=False, update_statistics=True):
        return self.on_batches([images], training, [update_statistics])[0]

    def on_batches(self, batches, training=False, update_statistics=None):
        """D and Q on several batches at once, one output dict per batch.

        The convolutions and dense layers run once on the batches' concatenation (one larger matmul
        each instead of one per batch: faster on a CPU), while every batch norm normalises each
        batch with that batch's own statistics and updates its moving averages batch after batch
        (in training, for the batches whose `update_statistics` entry is true: all by default), so
        the result is what separate calls in this order give.
        """
        sizes = [tf.shape(batch)[0] for batch in batches]
        updates = [True] * len(batches) if update_statistics is None else list(update_statistics)

        def normalise(layer, x):
            if len(batches) == 1:
                return layer(x, training=training, update_statistics=updates[0])
            parts = tf.split(x, sizes)
            return keras.ops.concatenate(
                [layer(part, training=training, update_statistics=u) for part, u in zip(parts, updates, strict=True)], 0
            )

        x = batches[0] if len(batches) == 1 else keras.ops.concatenate(batches, 0)
        for i in range(self.num_convs):
            x = getattr(self, f"conv{i}")(x, training=training)
            if i > 0 and self.has_bn:
                x = normalise(getattr(self, f"conv_bn{i}"), x)
            x = keras.ops.leaky_relu(x, self.slope)
        h = self.flatten(x)
        if self.has_fc:
            h = self.fc(h, training=training)
            h = keras.ops.leaky_relu(normalise(self.fc_bn, h) if self.has_bn else h, self.slope)
        logit = keras.ops.squeeze(self.d_head(h, training=training), -1)
        out = {"logit": logit, "features": h, **self._recognition(h, normalise, training)}
        if len(batches) == 1:
            return [out]
        parts = {name: tf.split(value, sizes) for name, value in out.items()}
        return [{name: parts[name][i] for name in out} for i in range(len(batches))]

    def recognize(self, features, training=False, update_statistics=True):
        """Q(c|x) from the shared body's features: `cat_logits`, `cont_mean`[, `cont_log_std`]."""
        return self._recognition(
            features, lambda layer, x: layer(x, training=training, update_statistics=update_statistics), training
        )

    def _recognition(self, features, normalise, training):
        # Q's own FC-(BN-)lReLU layer (the MNIST and SVHN appendix networks, InfoGAN-CR's), or none:
        # the chairs and faces networks share everything with D and differ only in the output units.
        if self.q_hidden:
            h = self.q_fc(features, training=training)
            features = keras.ops.leaky_relu(normalise(self.q_bn, h) if self.has_bn else h, self.slope)
        # `q_features`: what Q's output units read (Elastic-InfoGAN's contrastive term compares them).
        return {**self._q_outputs(self.q_head(features, training=training)), "q_features": features}

    def _q_outputs(self, params):
        n_cat, n_cont = sum(self.spec.categorical), self.spec.continuous
        out = {"cat_logits": params[:, :n_cat], "cont_mean": params[:, n_cat : n_cat + n_cont]}
        if self.learned_std:
            out["cont_log_std"] = keras.ops.clip(params[:, n_cat + n_cont : n_cat + 2 * n_cont], *LOG_STD_RANGE)
        return out

    @property
    def body_variables(self):
        """The shared conv/FC body's trainable variables (feeding both D and Q)."""
        names = [f"conv{i}" for i in range(self.num_convs)]
        if self.has_bn:
            names += [f"conv_bn{i}" for i in range(1, self.num_convs)]
        if self.has_fc:
            names += ["fc", "fc_bn"] if self.has_bn else ["fc"]
        return [v for name in names for v in getattr(self, name).trainable_variables]

    @property
    def d_variables(self):
        """The shared body's and D head's trainable variables: all but Q's own (`q_variables`)."""
        own = {id(v) for v in self.q_variables}
        return [v for v in self.trainable_variables if id(v) not in own]

    @property
    def q_variables(self):
        """The recognition head Q's own trainable variables."""
        own = ["q_head"]
        if self.q_hidden:
            own += ["q_fc", "q_bn"] if self.has_bn else ["q_fc"]
        return [v for name in own for v in getattr(self, name).trainable_variables]


def build_models(config, sync_bn: bool = False) -> tuple[Generator, Discriminator]:
    """Creates and builds G and D (call inside `strategy.scope()` for distributed training)."""
    spec = LatentSpec.from_config(config)
    generator = Generator(
        spec,
        config.architecture,
        config.image_shape,
        sync_bn=sync_bn,
        weight_init=config.weight_init,
        noise_scale=config.noise_scale,
        name="generator",
    )
    discriminator = Discriminator(
        spec,
        config.architecture,
        config.q_std,
        sync_bn=sync_bn,
        weight_init=config.weight_init,
        q_hidden=config.q_hidden,
        spectral_norm=config.spectral_norm,
        batch_norm=config.d_batch_norm,
        leaky_slope=config.leaky_slope,
        name="discriminator",
    )
    # Subclassed models get their variables from a first call, not from build(shape).
    dummy = {
        "z": tf.zeros([2, spec.noise_dim]),
        "categorical": tf.zeros([2, len(spec.categorical)], tf.int32),
        "continuous": tf.zeros([2, spec.continuous]),
    }
    images = generator(dummy)
    discriminator(images)
    return generator, discriminator

"""InfoGAN-CR's contrastive regulariser (Lin, Thekumparampil, Fanti, Oh, "InfoGAN-CR and ModelCentrality",
ICML 2020, arXiv:1906.06034): a classifier learns which code a pair of generated images shares, and G
adds `cr_weight` times the same cross-entropy to its loss, so G helps it.

Its flags (`Config` fields, set from train.py): `--cr_weight` (0 = off), `--cr_start_step` (the classifier
starts training there: their code re-initialises it and its optimiser at that step, so what it would learn
before is thrown away), `--cr_gap` (the least distance of a pair's other continuous codes) and `--lr_cr`
(the classifier's Adam learning rate). The step follows their code's order: this classifier, then D/Q,
then G. Its checkpoint keys are `cr_classifier` and `cr_optimizer`; its metrics `cr_loss` and
`cr_accuracy`.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf
from keras import layers

from infogan_tf import gan, losses, models
from infogan_tf.latent import CONTINUOUS_HIGH, CONTINUOUS_LOW, LatentSpec
from infogan_tf.regularisers import base

CLASSIFIER_CONV = (32, 32, 64, 64)  # their CrDiscriminator: 4x4 stride-2 convs with lReLU 0.2,
CLASSIFIER_FC = 128  # then FC128-lReLU and the K logits; spectral-normalised but for the logits.
CLASSIFIER_LEAKY = 0.2


class ContrastiveClassifier(keras.Model):
    """InfoGAN-CR's contrastive-regulariser classifier (their CrDiscriminator): two images concatenated
    on the channel axis -> logits over which of the K codes the pair shares.

    Spectral-normalised 4x4 stride-2 convs 32-32-64-64 and FC128 (lReLU 0.2), then K logits.
    """

    def __init__(self, num_codes: int, weight_init="dcgan", **kwargs):
        super().__init__(**kwargs)
        init = functools.partial(models.kernel_initializer, weight_init)
        self.num_convs = len(CLASSIFIER_CONV)
        for i, filters in enumerate(CLASSIFIER_CONV):
            conv = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init(), name=f"conv{i}")
            setattr(self, f"conv{i}", models.maybe_spectral_norm(conv, True))
        self.flatten = layers.Flatten()
        self.fc = models.maybe_spectral_norm(layers.Dense(CLASSIFIER_FC, kernel_initializer=init(), name="fc"), True)
        self.logits = layers.Dense(num_codes, dtype="float32", kernel_initializer=init(), name="logits")

    def call(self, pairs, training=False):
        x = pairs
        for i in range(self.num_convs):
            x = keras.ops.leaky_relu(getattr(self, f"conv{i}")(x, training=training), CLASSIFIER_LEAKY)
        x = keras.ops.leaky_relu(self.fc(self.flatten(x), training=training), CLASSIFIER_LEAKY)
        return self.logits(x)


def build_classifier(config) -> ContrastiveClassifier:
    """Creates and builds the classifier for `config`'s codes and images."""
    spec = LatentSpec.from_config(config)
    classifier = ContrastiveClassifier(len(spec.code_names), weight_init=config.weight_init, name="cr_classifier")
    height, width, channels = config.image_shape
    classifier(tf.zeros([2, height, width, 2 * channels]))
    return classifier


def sample_pairs(
    spec: LatentSpec, rng: tf.random.Generator, batch_size, gap: float = 0.0
) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor], tf.Tensor]:
    """InfoGAN-CR's pairs of latents: per pair, code k drawn uniformly from all codes (`code_names`'
    order: categorical, then continuous) takes one value in both latents.

    As their code (`JointLatent.sample_cr`): the noise z is the same in both; every other continuous code
    is drawn twice, each from Unif(-1 + gap/2, 1 - gap/2) and the two pushed gap/2 apart, so they differ
    by at least `gap`. Our extension to categorical codes (their dSprites setup has none): the pair's other
    categorical codes are independent draws, and with `gap` > 0 always different.

    Returns the two latent batches and `shared` [B] int32, the index k.
    """
    n_cat, n_cont = len(spec.categorical), spec.continuous
    shared = rng.uniform([batch_size], 0, n_cat + n_cont, dtype=tf.int32)
    z = rng.uniform([batch_size, spec.noise_dim], CONTINUOUS_LOW, CONTINUOUS_HIGH)
    first_cat, second_cat = [], []
    for i, k in enumerate(spec.categorical):
        a = rng.uniform([batch_size], 0, k, dtype=tf.int32)
        if gap > 0:
            b = (a + rng.uniform([batch_size], 1, k, dtype=tf.int32)) % k
        else:
            b = rng.uniform([batch_size], 0, k, dtype=tf.int32)
        first_cat.append(a)
        second_cat.append(tf.where(shared == i, a, b))
    half = gap / 2.0
    u = rng.uniform([batch_size, n_cont], CONTINUOUS_LOW + half, CONTINUOUS_HIGH - half)
    v = rng.uniform([batch_size, n_cont], CONTINUOUS_LOW + half, CONTINUOUS_HIGH - half)
    sign = tf.where(u > v, 1.0, -1.0)
    value = rng.uniform([batch_size, n_cont], CONTINUOUS_LOW, CONTINUOUS_HIGH)
    same = tf.one_hot(shared - n_cat, n_cont, on_value=True, off_value=False)  # all False for a categorical k
    first_cont = tf.where(same, value, u + sign * half)
    second_cont = tf.where(same, value, v - sign * half)

    def stack(columns):
        return tf.stack(columns, axis=1) if columns else tf.zeros([batch_size, 0], tf.int32)

    first = {"z": z, "categorical": stack(first_cat), "continuous": first_cont}
    second = {"z": z, "categorical": stack(second_cat), "continuous": second_cont}
    return first, second, shared


class Contrastive(base.Regulariser):
    """The contrastive regulariser: its classifier and optimiser exist (and are checkpointed) in every
    run with `cr_weight` > 0, and start learning at `cr_start_step`."""

    metric_names = ("cr_loss", "cr_accuracy")

    def __init__(self, name: str, config, spec: LatentSpec):
        super().__init__(name, config, spec)
        self.classifier = build_classifier(config)
        self.optimizer = gan.adam(config, config.lr_cr)
        self.optimizer.build(self.classifier.trainable_variables)

    @classmethod
    def enabled(cls, config) -> bool:
        return config.cr_weight > 0

    @property
    def start_step(self) -> int:
        return self.config.cr_start_step

    @property
    def variables(self) -> list[tf.Variable]:
        return self.classifier.variables

    def checkpoint_objects(self) -> dict[str, object]:
        return {"cr_classifier": self.classifier, "cr_optimizer": self.optimizer}

    def sample(self, rng, batch_size):
        return sample_pairs(self.spec, rng, batch_size, self.config.cr_gap)

    def generate(self, generator, extra):
        first, second, _ = extra
        return tf.concat([generator(first, training=True), generator(second, training=True)], -1)

    def update(self, generated, extra, average, metrics):
        """The classifier learns which code each pair shares (their crd_op, first in their step)."""
        shared = extra[2]
        with tf.GradientTape() as tape:
            logits = self.classifier(generated, training=True)
            loss = average(losses.contrastive_loss(logits, shared))
        variables = self.classifier.trainable_variables
        self.optimizer.apply(gan.scaled_gradients(tape, self.optimizer, loss, variables), variables)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), shared), tf.float32)
        metrics.update(cr_loss=loss, cr_accuracy=average(correct))

    def g_loss_term(self, generated, extra, average):
        """G wants each pair's shared code recognisable to the classifier it just updated."""
        logits = self.classifier(generated, training=True)
        return self.config.cr_weight * average(losses.contrastive_loss(logits, extra[2]))

"""InfoGAN's game: G, D/Q, their optimisers, the latent RNG, the regularisers, and the training step.

The objective (arXiv:1606.03657, Eq. 6): min_{G,Q} max_D V(D, G) - lambda L_I(G, Q). D and Q share the
discriminator's body, so one optimiser updates body, D head and Q head on `D loss - lambda L_I`, and G's
optimiser updates G on `G loss - lambda L_I` (the original code). With `--q_optimizer=g`, G's optimiser
holds Q's own layers too, and D's loss is the GAN loss alone. A regulariser (`infogan_tf.regularisers`) joins the step
through its hooks; InfoGAN-CR's contrastive one is `--cr_weight`.
"""

from __future__ import annotations

import hashlib

import keras
import numpy as np
import tensorflow as tf

from infogan_tf import config as config_lib
from infogan_tf import distribution, losses, regularisers
from infogan_tf.latent import LatentSpec
from infogan_tf.models import build_models


def adam(config: config_lib.Config, learning_rate: float) -> keras.optimizers.Optimizer:
    """Adam with the run's beta1; with fp16 mixed precision, wrapped to scale the loss."""
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=config.beta1)
    if config.mixed_precision == "fp16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def scaled_gradients(tape: tf.GradientTape, optimizer, loss: tf.Tensor, variables) -> list:
    """`tape.gradient(loss, variables)`, the loss scaled first where the optimiser scales losses (fp16)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        loss = optimizer.scale_loss(loss)
    return tape.gradient(loss, variables)


class InfoGAN:
    """The networks, optimisers and latent RNG, created in `strategy.scope()`, and the step."""

    def __init__(self, config: config_lib.Config, strategy: tf.distribute.Strategy):
        self.config = config
        self.strategy = strategy
        self.spec = LatentSpec.from_config(config)
        with strategy.scope():
            self.generator, self.discriminator = build_models(config, sync_bn=strategy.num_replicas_in_sync > 1)
            self.g_optimizer = adam(config, config.lr_g)
            self.d_optimizer = adam(config, config.lr_d)
            # What each optimiser holds; its slots must exist in the scope (and before a checkpoint restore).
            self.q_with_g = config.q_optimizer == "g"
            q_vars = self.discriminator.q_variables if self.q_with_g else []
            self.g_variables = self.generator.trainable_variables + q_vars
            self.d_variables = (
                self.discriminator.d_variables if self.q_with_g else self.discriminator.trainable_variables
            )
            self.g_optimizer.build(self.g_variables)
            self.d_optimizer.build(self.d_variables)
            self.regularisers = regularisers.build(config, self.spec)
            # Created in the scope, each replica draws its own stream; the state is checkpointed.
            self.rng = tf.random.Generator.from_seed(config.seed)
        self._unweighted_codes = bool(
            (config.info_weight_cat == 0 and self.spec.categorical)
            or (config.info_weight_cont == 0 and self.spec.continuous)
        )
        self.metric_names = ["d_loss", "g_loss"] + [f"info_lb/{c}" for c in self.spec.code_names]
        self.loop = distribution.StepLoop(strategy, self._sample_and_step, self._metric_names, config.batch_size)
        # XLA compiles the whole replica step; with several replicas its all-reduces (synchronised
        # BN, gradient aggregation) are merge calls that cannot sit inside a nested function.
        self._core_step = tf.function(self.replica_step, jit_compile=True) if config.jit_compile else self.replica_step

    def checkpoint_objects(self) -> dict[str, object]:
        """What a checkpoint of the game holds, by key (the regularisers' too)."""
        objects = {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "g_optimizer": self.g_optimizer,
            "d_optimizer": self.d_optimizer,
            "rng": self.rng,
        }
        for regulariser in self.regularisers:
            objects.update(regulariser.checkpoint_objects())
        return objects

    def active_regularisers(self, step: int) -> tuple[str, ...]:
        """The names of the regularisers the step after `step` steps runs."""
        return tuple(r.name for r in self.regularisers if r.active(step))

    def train_steps(self, iterator, num_steps: int, regularised: tuple[str, ...] = ()):
        """Runs up to `num_steps` steps in one `tf.function` call (a graph loop, no Python per step), with
        the regularisers named in `regularised`. Returns the last step's metrics and the steps run."""
        return self.loop(iterator, num_steps, tuple(regularised))

    def _metric_names(self, regularised: tuple[str, ...]) -> list[str]:
        return self.metric_names + [m for r in self.regularisers if r.name in regularised for m in r.metric_names]

    # The replica's step has no Python control flow on tensors, so AutoGraph is not needed to trace
    # it, and converting it (and every layer it calls) took a third of the step's tracing time.
    @tf.autograph.experimental.do_not_convert
    def _sample_and_step(self, images: tf.Tensor, regularised: tuple[str, ...]):
        batch = tf.shape(tf.nest.flatten(images)[0])[0]  # images, or (images, augmented) pairs
        latent = self.spec.sample(self.rng, batch)
        extra = {r.name: r.sample(self.rng, batch) for r in self.regularisers if r.name in regularised}
        if self.config.fresh_g_latents:
            return self._core_step(images, latent, extra, self.spec.sample(self.rng, batch))
        return self._core_step(images, latent, extra)

    def _average(self, per_example: tf.Tensor) -> tf.Tensor:
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.config.batch_size)

    @tf.autograph.experimental.do_not_convert  # as `_sample_and_step`, wherever it is traced
    def replica_step(
        self, images: tf.Tensor, latent: dict[str, tf.Tensor], extra=None, g_latent=None
    ) -> dict[str, tf.Tensor]:
        """One InfoGAN update on this replica's share of the global batch, in the order it runs: G's pass,
        the regularisers' own updates, D/Q's update, then `g_steps` G updates on the same latents.

        Args:
            images: this replica's real images [B, H, W, C], or (images, augmented copies) when a
                regulariser pairs them (`Regulariser.prepare_dataset`).
            latent: the step's latent batch (`LatentSpec.sample`).
            extra: `{name: latents}` of the regularisers this step runs (`Regulariser.sample`).
            g_latent: with `--fresh_g_latents`, the latents G's updates use instead of `latent` (G then
                makes its images again for them).

        Returns metrics already divided by the global batch, so a SUM over replicas is the mean.
        """
        extra = extra or {}
        active = [r for r in self.regularisers if r.name in extra]
        images, augmented = images if isinstance(images, tuple | list) else (images, None)
        # G's pass runs once per G update, under G's tape, and is handed to the regularisers and D/Q
        # first: G has batch norm, so a second pass would move its statistics again.
        g_tape, fake, generated = self._generate(latent, extra, active)
        metrics = self._regulariser_updates(generated, extra, active)
        metrics.update(self._d_step(images, augmented, fake, latent, active))
        if g_latent is not None:
            latent = g_latent
        for g_update in range(self.config.g_steps):
            if g_update or g_latent is not None:
                g_tape, fake, generated = self._generate(latent, extra, active)
            # With --q_optimizer=g, Q's own layers learn in G's update: the Q terms join the first one.
            real = (images, augmented, metrics) if self.q_with_g and g_update == 0 else None
            g_gan = self._g_step(g_tape, fake, generated, latent, extra, active, real)
            if g_update == 0:
                metrics["g_loss"] = g_gan
        return metrics

    def _generate(self, latent, extra, active):
        """G's images of the step's latents and of each active regulariser's, recorded on a new G tape."""
        g_tape = tf.GradientTape()
        with g_tape:
            fake = self.generator(latent, training=True)
            generated = {r.name: r.generate(self.generator, extra[r.name]) for r in active}
        return g_tape, fake, generated

    def _regulariser_updates(self, generated, extra, active) -> dict[str, tf.Tensor]:
        """Each active regulariser's own update, on G's images as constants."""
        metrics = {}
        for r in active:
            images = None if generated[r.name] is None else tf.nest.map_structure(tf.stop_gradient, generated[r.name])
            r.update(images, extra[r.name], self._average, metrics)
        return metrics

    def _q_terms(self, active, images, augmented, metrics) -> tf.Tensor:
        """The sum of the active regularisers' terms on Q (`Regulariser.q_loss_term`)."""
        total = tf.constant(0.0)
        for r in active:
            term = r.q_loss_term(self.discriminator, images, augmented, self._average, metrics)
            if term is not None:
                total += term
        return total

    def _d_step(self, images, augmented, fake, latent, active) -> dict[str, tf.Tensor]:
        """D maximises V, and Q (with the shared body) maximises L_I on fakes made by the current G;
        G's weights are not touched, so its output is a constant here."""
        config, discriminator = self.config, self.discriminator
        every_batch = config.bn_statistics == "all"
        metrics = {}
        with tf.GradientTape() as d_tape:
            # One pass over real and fake batches, each batch-normalised on its own; BN's moving
            # statistics, which Q reads real images with at inference, follow the real ones.
            real_out, fake_out = discriminator.on_batches(
                [images, tf.stop_gradient(fake)], training=True, update_statistics=[True, every_batch]
            )
            bounds = losses.info_lower_bounds(fake_out, latent, self.spec.categorical)
            info = losses.weighted_info_lower_bound(bounds, config.info_weight_cat, config.info_weight_cont)
            if self._unweighted_codes:
                # A code with lambda = 0 (the regular-GAN baseline of Fig. 1) still trains Q,
                # so L_I can be measured, but on features the body cannot learn from.
                blocked = discriminator.recognize(
                    tf.stop_gradient(fake_out["features"]), training=True, update_statistics=every_batch
                )
                info += losses.weighted_info_lower_bound(
                    losses.info_lower_bounds(blocked, latent, self.spec.categorical),
                    float(config.info_weight_cat == 0),
                    float(config.info_weight_cont == 0),
                )
            d_gan = losses.discriminator_loss(real_out["logit"], fake_out["logit"])
            # With --q_optimizer=g, Q learns in G's update: D's loss is the GAN loss alone.
            d_loss = self._average(d_gan if self.q_with_g else d_gan - info)
            for r in active:
                term = r.d_loss_term(discriminator, images, self._average, metrics)
                if term is not None:
                    d_loss += term
            if not self.q_with_g:
                d_loss += self._q_terms(active, images, augmented, metrics)
        d_vars = self.d_variables
        self.d_optimizer.apply(scaled_gradients(d_tape, self.d_optimizer, d_loss, d_vars), d_vars)
        metrics["d_loss"] = self._average(d_gan)
        metrics.update({f"info_lb/{name}": self._average(value) for name, value in bounds.items()})
        return metrics

    def _g_step(self, g_tape, fake, generated, latent, extra, active, real=None) -> tf.Tensor:
        """G wants D fooled, c recoverable from G(z, c) by the updated Q, and each active regulariser's
        term low; only G's weights move (and Q's own layers' with `--q_optimizer=g`: the shared body's
        gradient is dropped). `real` = (images, augmented, metrics): the regularisers' Q terms join this
        update (`--q_optimizer=g`). Returns G's GAN loss (the `g_loss` metric)."""
        config = self.config
        every_batch = config.bn_statistics == "all"
        with g_tape:
            fake_out = self.discriminator(fake, training=True, update_statistics=every_batch)
            bounds = losses.info_lower_bounds(fake_out, latent, self.spec.categorical)
            info = losses.weighted_info_lower_bound(bounds, config.info_weight_cat, config.info_weight_cont)
            g_gan = losses.generator_loss(fake_out["logit"])
            g_loss = self._average(g_gan - info)
            for r in active:
                term = r.g_loss_term(generated[r.name], extra[r.name], self._average)
                if term is not None:
                    g_loss += term
            if real is not None:
                g_loss += self._q_terms(active, *real)
        g_vars = self.g_variables
        self.g_optimizer.apply(scaled_gradients(g_tape, self.g_optimizer, g_loss, g_vars), g_vars)
        return self._average(g_gan)

    @property
    def variables(self) -> list:
        """Every network variable: G's, D/Q's and the regularisers' networks'."""
        networks = [v for network in (self.generator, self.discriminator) for v in network.variables]
        return networks + [v for r in self.regularisers for v in r.variables]

    def fingerprint(self) -> str:
        """A short hash of every network variable: equal across workers when they are in sync."""
        digest = hashlib.sha256()
        for variable in self.variables:
            digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
        return digest.hexdigest()[:16]

    @tf.function
    def _weights_finite(self) -> tf.Tensor:
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in self.variables])

    def first_non_finite_weight(self) -> str | None:
        """The path of the first network variable holding a NaN or infinity, or None."""
        if bool(self._weights_finite()):
            return None
        for variable in self.variables:
            if not tf.reduce_all(tf.math.is_finite(variable)):
                return variable.path
        return None

"""The interface between the training step and a regulariser.

InfoGAN's step (`infogan_tf.gan.InfoGAN.replica_step`) is the paper's updates: D/Q, then G. A regulariser
joins them through these hooks, each called in the order the step runs:

1. `sample`: extra latents, drawn from the step's RNG after the step's own latent batch;
2. `generate`: G's passes on those latents, run once per G update under G's tape beside G's pass on the
   step's latents, so their images are the ones G's update differentiates;
3. `update`: an update of its own (its own networks and optimiser), before D/Q, on those images with no
   gradient to G;
4. `d_loss_term`: a term added to the D/Q loss, computed on the real images under D/Q's tape;
5. `q_loss_term`: a term on Q, computed on the real images (and their augmented copies, when
   `prepare_dataset` makes them), added to the loss of whichever optimiser holds Q's own layers
   (`--q_optimizer`): D/Q's, under D/Q's tape, or G's, under G's tape at the step's first G update;
6. `g_loss_term`: a term added to G's loss, under G's tape, once per G update.

`prepare_dataset` turns the run's stream of real batches into what the step takes: a regulariser that
needs pairs of real images returns (images, augmented) batches, made in the `tf.data` pipeline.

`metric_names` are what `update` and `d_loss_term` write into the step's metrics (each divided by the
global batch, as the step's own). `checkpoint_objects` are saved with the run under the names given. The
hooks run from the step after `start_step` steps on; `enabled(config)` says whether a run has it at all.
A hook a regulariser does not need is left as it is here.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

# `average(per_example)`: a [B] per-example value of this replica -> its share of the global-batch mean.
Average = Callable[[tf.Tensor], tf.Tensor]


class Regulariser:
    """A regulariser of InfoGAN's game; subclass it and override the hooks it needs.

    Created inside `strategy.scope()` (its networks and optimiser variables must be), after G, D/Q and
    their optimisers, so runs without it create the same variables in the same order.

    Args:
        name: its name in the registry (`infogan_tf.regularisers`).
        config: the run's `Config`.
        spec: the run's `LatentSpec`.
    """

    metric_names: tuple[str, ...] = ()

    def __init__(self, name: str, config, spec):
        self.name = name
        self.config = config
        self.spec = spec

    @classmethod
    def enabled(cls, config) -> bool:
        """Whether `config` switches this regulariser on."""
        raise NotImplementedError

    @property
    def start_step(self) -> int:
        """The number of steps after which the hooks start running."""
        return 0

    def active(self, step: int) -> bool:
        """Whether the step after `step` steps runs this regulariser."""
        return step >= self.start_step

    @property
    def variables(self) -> list[tf.Variable]:
        """Its networks' variables (weights and statistics, not optimiser slots): in the run's fingerprint
        and finiteness checks."""
        return []

    def checkpoint_objects(self) -> dict[str, object]:
        """The trackable objects saved with the run, by checkpoint key."""
        return {}

    def sample(self, rng: tf.random.Generator, batch_size: tf.Tensor):
        """Extra latents for this step (any nest of tensors), or None."""
        del rng, batch_size
        return None

    def generate(self, generator, extra):
        """G's images for the extra latents (G in training mode, under G's tape), or None."""
        del generator, extra
        return None

    def update(self, generated, extra, average: Average, metrics: dict) -> None:
        """Its own update, before D/Q's; `generated` carries no gradient to G."""
        del generated, extra, average, metrics

    def prepare_dataset(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        """The run's training batches as the step takes them; by default unchanged."""
        return dataset

    def d_loss_term(self, discriminator, images: tf.Tensor, average: Average, metrics: dict) -> tf.Tensor | None:
        """A term added to the D/Q loss, computed on this replica's real `images` [B, H, W, C]; or None."""
        del discriminator, images, average, metrics
        return None

    def q_loss_term(
        self, discriminator, images: tf.Tensor, augmented: tf.Tensor | None, average: Average, metrics: dict
    ) -> tf.Tensor | None:
        """A term on Q from this replica's real `images` and, when `prepare_dataset` pairs them, their
        `augmented` copies (else None); added where Q's own layers learn. Or None."""
        del discriminator, images, augmented, average, metrics
        return None

    def g_loss_term(self, generated, extra, average: Average) -> tf.Tensor | None:
        """A term added to G's loss (already averaged over the global batch), or None."""
        del generated, extra, average
        return None

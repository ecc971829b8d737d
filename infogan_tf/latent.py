"""The latent spec: incompressible noise z plus categorical and continuous codes c.

A latent batch is a dict with the SavedModel signature's names: `z` float32 [B, noise_dim],
`categorical` int32 [B, n_cat] (category indices), `continuous` float32 [B, n_cont].
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf

CONTINUOUS_LOW, CONTINUOUS_HIGH = -1.0, 1.0


@dataclasses.dataclass(frozen=True)
class LatentSpec:
    """Sizes of z and c. z and continuous codes are Unif(-1, 1); each categorical code Cat(K)."""

    noise_dim: int
    categorical: tuple[int, ...] = ()
    continuous: int = 0

    @classmethod
    def from_config(cls, config) -> LatentSpec:
        return cls(config.noise_dim, tuple(config.categorical), config.continuous)

    @property
    def input_dim(self) -> int:
        """Width of G's input: z, one-hot categorical codes, continuous codes."""
        return self.noise_dim + sum(self.categorical) + self.continuous

    @property
    def code_names(self) -> list[str]:
        """Names used in metrics: `cat<i>`, `cont<j>`, counting from 0."""
        cats = [f"cat{i}" for i in range(len(self.categorical))]
        return cats + [f"cont{j}" for j in range(self.continuous)]

    def entropies(self) -> dict[str, float]:
        """H(c) per code in nats: ln K for Cat(K); ln 2, the differential entropy, for Unif(-1, 1)."""
        out = {f"cat{i}": math.log(k) for i, k in enumerate(self.categorical)}
        width = CONTINUOUS_HIGH - CONTINUOUS_LOW
        out.update({f"cont{j}": math.log(width) for j in range(self.continuous)})
        return out

    def tensor_specs(self, batch_size: int | None = None) -> dict[str, tf.TensorSpec]:
        """The shapes and dtypes of a latent batch (a width is 0 where the model has none of it)."""
        return {
            "z": tf.TensorSpec([batch_size, self.noise_dim], tf.float32, name="z"),
            "categorical": tf.TensorSpec([batch_size, len(self.categorical)], tf.int32, name="categorical"),
            "continuous": tf.TensorSpec([batch_size, self.continuous], tf.float32, name="continuous"),
        }

    def sample(self, rng: tf.random.Generator, batch_size) -> dict[str, tf.Tensor]:
        """Draws a latent batch from the prior with `rng` (its state is checkpointed)."""
        latent = {
            "z": rng.uniform([batch_size, self.noise_dim], CONTINUOUS_LOW, CONTINUOUS_HIGH),
            "categorical": tf.stack([rng.uniform([batch_size], 0, k, dtype=tf.int32) for k in self.categorical], axis=1)
            if self.categorical
            else tf.zeros([batch_size, 0], tf.int32),
            "continuous": rng.uniform([batch_size, self.continuous], CONTINUOUS_LOW, CONTINUOUS_HIGH),
        }
        return latent

    def generator_input(self, latent: dict[str, tf.Tensor], noise_scale: float = 1.0) -> tf.Tensor:
        """Concatenates `noise_scale` * z, one-hot categorical codes and continuous codes into G's input."""
        parts = [tf.cast(latent["z"], tf.float32) * noise_scale]
        for i, k in enumerate(self.categorical):
            parts.append(tf.one_hot(latent["categorical"][:, i], k, dtype=tf.float32))
        parts.append(tf.cast(latent["continuous"], tf.float32))
        return tf.concat(parts, axis=1)


def traverse_code(
    spec: LatentSpec, code: str, base: dict[str, tf.Tensor], continuous_range=(-2.0, 2.0), steps: int = 9
) -> tuple[dict[str, tf.Tensor], int]:
    """Latents for a traversal grid: each row of `base` repeated with `code` swept over its values.

    Categorical codes take all K values; continuous codes `steps` values over `continuous_range`
    (the paper extrapolates to -2..2, beyond the Unif(-1, 1) prior). Returns the latent batch in
    row-major order (rows = base samples, columns = code values) and the number of columns.
    """
    rows = int(base["z"].shape[0])
    kind = "cat" if code.startswith("cat") else "cont"
    index = int(code[len(kind) :])
    if kind == "cat":
        values = tf.range(spec.categorical[index], dtype=tf.int32)
    else:
        values = tf.linspace(*continuous_range, steps)
    cols = int(values.shape[0])
    tiled = {key: tf.repeat(value, cols, axis=0) for key, value in base.items()}
    column_values = tf.tile(values, [rows])
    field = "categorical" if kind == "cat" else "continuous"
    mask = tf.one_hot(index, tiled[field].shape[1], dtype=tiled[field].dtype)
    tiled[field] = tiled[field] * (1 - mask) + column_values[:, None] * mask
    return tiled, cols

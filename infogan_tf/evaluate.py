"""Evaluation: the information lower bound L_I per code on fresh samples, with G and Q in inference mode."""

from __future__ import annotations

import tensorflow as tf

from infogan_tf import losses
from infogan_tf.latent import LatentSpec


def info_bound(
    generator, discriminator, spec: LatentSpec, rng: tf.random.Generator, num_samples: int, batch_size: int = 256
):
    """Mean L_I per code (`info_lb/<code>`) and their sum (`info_lb`) over `num_samples` fresh latents."""
    totals = {name: 0.0 for name in spec.code_names}
    done = 0
    while done < num_samples:
        n = min(batch_size, num_samples - done)
        latent = spec.sample(rng, n)
        q = discriminator(generator(latent, training=False), training=False)
        for name, value in losses.info_lower_bounds(q, latent, spec.categorical).items():
            totals[name] += float(tf.reduce_sum(value))
        done += n
    result = {f"info_lb/{name}": total / num_samples for name, total in totals.items()}
    result["info_lb"] = sum(result.values())
    return result

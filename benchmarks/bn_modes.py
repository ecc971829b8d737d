"""L_I per code and sample diversity of a finished run with G and Q each in training or inference mode.

python benchmarks/bn_modes.py --workdir=runs/mnist_c10 [--checkpoint=...] [--samples=256]

Training mode normalises each layer with the statistics of the batch at hand (here one batch of
`--samples` fresh latents, the moving statistics restored after); inference mode with the moving
statistics, as eval.json, the export and the explorer do. A Q that reads G's codes only under a fake
batch's statistics shows a high L_I with Q in training mode and a low one in inference mode.
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from infogan_tf import evaluate, losses
from infogan_tf import export as export_lib
from infogan_tf.latent import LatentSpec


def modes(generator, discriminator, spec: LatentSpec, samples: int) -> list[dict]:
    """One row per (G mode, Q mode): mean and min over codes of L_I, and G's `pixel_spread`."""
    latent = spec.sample(tf.random.Generator.from_seed(2), samples)
    saved = {model: [v.numpy() for v in model.non_trainable_variables] for model in (generator, discriminator)}
    rows = []
    for g_training in (False, True):
        for q_training in (False, True):
            images = generator(latent, training=g_training)
            bounds = losses.info_lower_bounds(discriminator(images, training=q_training), latent, spec.categorical)
            for model, values in saved.items():  # training-mode calls moved the moving statistics: put them back
                for variable, value in zip(model.non_trainable_variables, values, strict=True):
                    variable.assign(value)
            per_code = [float(tf.reduce_mean(value)) for value in bounds.values()]
            rows.append(
                {
                    "G": "training" if g_training else "inference",
                    "Q": "training" if q_training else "inference",
                    "L_I mean": float(np.mean(per_code)),
                    "L_I min": min(per_code),
                    "G pixel spread": evaluate.pixel_spread(images),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True, help="A training run's workdir.")
    parser.add_argument("--checkpoint", help="Checkpoint to read (default: the workdir's latest).")
    parser.add_argument("--samples", type=int, default=256, help="Fresh latents (one batch).")
    args = parser.parse_args()
    config, generator, discriminator, path = export_lib.restore(args.workdir, args.checkpoint)
    print(f"{path}")
    print("| G | Q | L_I per code, mean (min) | G's pixel spread |\n|---|---|---|---|")
    for row in modes(generator, discriminator, LatentSpec.from_config(config), args.samples):
        print(
            f"| {row['G']} | {row['Q']} | {row['L_I mean']:.2f} ({row['L_I min']:.2f}) | {row['G pixel spread']:.4f} |"
        )


if __name__ == "__main__":
    main()

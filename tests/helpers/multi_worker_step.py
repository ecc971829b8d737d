"""One InfoGAN step on a MultiWorkerMirroredStrategy worker (TF_CONFIG names it), for the tests.

python multi_worker_step.py INITIAL.npz OUT.npz
Loads G and D/Q weights from INITIAL.npz, runs `InfoGAN.replica_step` once on the fixed global batch
of `tests/test_multi_worker.py` (each worker's replica takes its slice), and saves every variable.
"""

import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from infogan_tf import config as config_lib  # noqa: E402
from infogan_tf.gan import InfoGAN  # noqa: E402

CONFIG = config_lib.Config(batch_size=8, steps=1, jit_compile=False)


def fixed_batch(spec):
    images = tf.random.stateless_uniform([8, *CONFIG.image_shape], [3, 4])
    return images, spec.sample(tf.random.Generator.from_seed(11), 8)


def linear_adam(model):
    for optimizer in (model.g_optimizer, model.d_optimizer):
        optimizer.epsilon = 1.0  # the step ~ lr * gradient (see tests/test_train.py)


def main(initial_path, out_path):
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    model = InfoGAN(CONFIG, strategy)
    initial = np.load(initial_path)
    variables = model.generator.variables + model.discriminator.variables
    for i, variable in enumerate(variables):
        variable.assign(initial[f"arr_{i}"])
    linear_adam(model)
    images, latent = fixed_batch(model.spec)
    per_replica = CONFIG.batch_size // strategy.num_replicas_in_sync

    def shard(context):
        start = context.replica_id_in_sync_group * per_replica
        return tf.nest.map_structure(lambda t: t[start : start + per_replica], (images, latent))

    sharded_images, sharded_latent = strategy.experimental_distribute_values_from_function(shard)

    @tf.function
    def step(images, latent):
        return strategy.run(model.replica_step, args=(images, latent))

    step(sharded_images, sharded_latent)
    np.savez(out_path, *[v.numpy() for v in variables])


if __name__ == "__main__":
    main(*sys.argv[1:])

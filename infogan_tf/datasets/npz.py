"""`--dataset=npz`: a user's `.npz` file (`--data_path`): 'images' [, 'labels', 'factors'], or dSprites' own."""

from __future__ import annotations

import dataclasses

from infogan_tf import local_data
from infogan_tf.config import Config
from infogan_tf.datasets import base, shapes, tfds_family


class Npz(base.InMemorySource):
    """Images, and labels and factors when the file has them; the image size picks the architecture."""

    # The MNIST preset (N(0, 0.02) kernels and the consistency term included: the screens that chose them ran
    # on MNIST as an .npz); image shape and architecture come from the data.
    preset = dataclasses.replace(tfds_family.MNIST.preset, dataset="npz")
    shape_from_data = True

    def read(self, path: str | None, flag: str):
        return local_data.load_npz(path, flag)

    def factor_names(self, config: Config) -> list[str] | None:
        if local_data.is_dsprites_npz(config.data_path):
            return list(shapes.FACTOR_NAMES)  # dSprites' own file: the same five factors, in that order
        return None


NPZ = Npz()

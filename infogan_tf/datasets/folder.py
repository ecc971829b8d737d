"""Image folders (`--data_path=DIR`, PNG or JPEG): `--dataset=folder`, a user's images, and `--dataset=faces`,
the 3D faces renders (DC-IGN, Kulkarni et al. 2015)."""

from __future__ import annotations

import dataclasses

from infogan_tf import local_data
from infogan_tf.config import Config, ConfigError
from infogan_tf.datasets import base, chairs, tfds_family


class ImageFolder(base.InMemorySource):
    """A folder of images; first-level subfolders, when every image sits in one, are the labels.

    Args:
        preset: the dataset's preset.
        shape_from_data: whether the images' size picks the image shape and architecture.
    """

    def __init__(self, preset: Config, shape_from_data: bool):
        self.preset = preset
        self.shape_from_data = shape_from_data

    def read(self, path: str | None, flag: str):
        images, labels, _ = local_data.load_folder(path, dataset=self.preset.dataset, flag=flag)
        return images, labels, None

    def labelled_eval_set(self, config: Config, num_examples: int):
        """As `InMemorySource`'s, and `--heldout_path`'s label subfolders must be `--data_path`'s: a label is
        the index of its subfolder's name."""
        labelled = super().labelled_eval_set(config, num_examples)
        if config.heldout_path:
            train, heldout = (local_data.folder_classes(path) for path in (config.data_path, config.heldout_path))
            if train != heldout:
                raise ConfigError(
                    f"--heldout_path={config.heldout_path} has the label subfolders {', '.join(heldout or [])}, "
                    f"--data_path={config.data_path} {', '.join(train or ['none'])}; give both the same ones."
                )
        return labelled


# A user's folder: the MNIST preset (N(0, 0.02) kernels included) without its consistency term (what a
# rotation keeps of a folder's images is unknown, and it was not measured on one); image shape and
# architecture come from the data.
FOLDER = ImageFolder(
    dataclasses.replace(tfds_family.MNIST.preset, dataset="folder", consistency_weight=0.0), shape_from_data=True
)
# 3D faces: Appendix C.4's 5 continuous codes, 128 noise, and D and Q sharing everything but the output
# units (q_hidden=0, from the chairs preset). Our choices: the chairs networks at 64x64x1 grayscale,
# lambda_cont 0.1, the step count, and the paper's batch norm in D/Q (no categorical codes, so the chairs
# preset's reason to drop it does not apply; unmeasured without it).
FACES = ImageFolder(
    dataclasses.replace(
        chairs.CHAIRS.preset,
        dataset="faces",
        categorical=(),
        continuous=5,
        info_weight_cont=0.1,
        steps=50_000,
        d_batch_norm=None,
    ),
    shape_from_data=False,
)

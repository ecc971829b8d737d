"""The registry of data sources: `--dataset` name -> the `DataSource` that knows everything about it.

Each source (`infogan_tf.datasets.base.DataSource`) holds its preset, training stream, labelled
evaluation set, ground-truth factors and their names, and how it adapts the config. Sources are named by
where they are defined and imported on first use (`infogan_tf.registry`): listing the names (flag help, a
mistyped flag) costs nothing, and a child process of `reproduce.py --parallel` finds every source by
importing it. A new dataset is one new module here and one line in `SOURCES` (docs/extending.md).
"""

from __future__ import annotations

from infogan_tf.registry import Registry

SOURCES = Registry(
    {
        "digits": "infogan_tf.datasets.digits:DIGITS",
        "shapes": "infogan_tf.datasets.shapes:SHAPES",
        "mnist": "infogan_tf.datasets.tfds_family:MNIST",
        "fashion_mnist": "infogan_tf.datasets.tfds_family:FASHION_MNIST",
        "svhn": "infogan_tf.datasets.tfds_family:SVHN",
        "celeba": "infogan_tf.datasets.tfds_family:CELEBA",
        "dsprites": "infogan_tf.datasets.tfds_family:DSPRITES",
        "chairs": "infogan_tf.datasets.chairs:CHAIRS",
        "faces": "infogan_tf.datasets.folder:FACES",
        "folder": "infogan_tf.datasets.folder:FOLDER",
        "npz": "infogan_tf.datasets.npz:NPZ",
    }
)
names = SOURCES.names
get = SOURCES.get

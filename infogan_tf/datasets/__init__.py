"""The registry of data sources: `--dataset` name -> the `DataSource` that knows everything about it.

Each source (`infogan_tf.datasets.base.DataSource`) holds its preset, training stream, labelled
evaluation set, ground-truth factors and their names, and how it adapts the config. The registry names
each source by where it is defined ("module:attribute") and imports it on first use: listing the names
(flag help, a mistyped flag) costs nothing, and a child process of `reproduce.py --parallel` finds every
source by importing it. A new dataset is one new module here and one line in `_SOURCES` (docs/extending.md).
"""

from __future__ import annotations

import importlib

_SOURCES: dict[str, object] = {
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


def names() -> list[str]:
    """Every `--dataset` value, in registration order."""
    return list(_SOURCES)


def get(name: str):
    """The `DataSource` of `--dataset=name`; KeyError if there is none (`config.resolve` names the choices)."""
    source = _SOURCES[name]
    if isinstance(source, str):
        module, attribute = source.split(":")
        source = _SOURCES[name] = getattr(importlib.import_module(module), attribute)
    return source


def register(name: str, source) -> None:
    """Adds (or replaces) the source of `--dataset=name`: a `DataSource`, or "module:attribute" naming one.

    A source registered as an object lives in this process only; name it by module for the child
    processes of `reproduce.py --parallel`.
    """
    _SOURCES[name] = source

"""Regularisers: terms added to InfoGAN's game, each one module behind one small interface.

`base.Regulariser` is the interface the training step calls; `build(config, spec)` creates every
regulariser the config switches on, in registration order (call it in `strategy.scope()`). A regulariser
is one module here and one line in `_REGULARISERS`, named by where it is defined ("module:attribute") so
it is imported only when asked for (docs/extending.md).
"""

from __future__ import annotations

import importlib

_REGULARISERS: dict[str, object] = {
    "contrastive": "infogan_tf.regularisers.contrastive:Contrastive",
}


def get(name: str):
    """The regulariser class registered as `name`."""
    regulariser = _REGULARISERS[name]
    if isinstance(regulariser, str):
        module, attribute = regulariser.split(":")
        regulariser = _REGULARISERS[name] = getattr(importlib.import_module(module), attribute)
    return regulariser


def register(name: str, regulariser) -> None:
    """Adds (or replaces) a regulariser: a `base.Regulariser` subclass, or "module:attribute" naming one."""
    _REGULARISERS[name] = regulariser


def build(config, spec) -> list:
    """An instance of every registered regulariser that `config` switches on (`enabled(config)`)."""
    built = []
    for name in list(_REGULARISERS):
        regulariser = get(name)
        if regulariser.enabled(config):
            built.append(regulariser(name, config, spec))
    return built

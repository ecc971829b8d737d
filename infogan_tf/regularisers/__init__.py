"""Regularisers: terms added to InfoGAN's game, each one module behind one small interface.

`base.Regulariser` is the interface the training step calls; `build(config, spec)` creates every
regulariser the config switches on, in registration order (call it in `strategy.scope()`). A regulariser
is one module here and one line in `REGULARISERS`, named by where it is defined and imported only when
asked for (`infogan_tf.registry`; docs/extending.md).
"""

from __future__ import annotations

from infogan_tf.registry import Registry

REGULARISERS = Registry(
    {
        "contrastive": "infogan_tf.regularisers.contrastive:Contrastive",
        "consistency": "infogan_tf.regularisers.consistency:Consistency",
        "elastic": "infogan_tf.regularisers.elastic:Elastic",
    }
)


def build(config, spec) -> list:
    """An instance of every registered regulariser that `config` switches on (`enabled(config)`)."""
    built = []
    for name in REGULARISERS.names():
        regulariser = REGULARISERS.get(name)
        if regulariser.enabled(config):
            built.append(regulariser(name, config, spec))
    return built

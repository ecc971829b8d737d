"""A registry of names -> objects that imports each object on first use: the data sources
(`infogan_tf.datasets`) and the regularisers (`infogan_tf.regularisers`) are registered this way."""

from __future__ import annotations

import importlib


class Registry:
    """Each entry is the object itself or "module:attribute" naming it; a named one is imported the first
    time it is asked for, so listing the names imports nothing, and a child process finds every entry by
    importing it.

    Args:
        entries: name -> object or "module:attribute", in the order `names` lists them.
    """

    def __init__(self, entries: dict[str, object]):
        self.entries = dict(entries)

    def names(self) -> list[str]:
        """Every registered name, in registration order."""
        return list(self.entries)

    def get(self, name: str):
        """The object registered as `name` (imported on first use); KeyError if there is none."""
        entry = self.entries[name]
        if isinstance(entry, str):
            module, attribute = entry.split(":")
            entry = self.entries[name] = getattr(importlib.import_module(module), attribute)
        return entry

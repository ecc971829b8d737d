"""Latent traversals: the paper's figures (Figs. 2-6), one grid per code, as PNG and TensorBoard."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from infogan_tf.latent import LatentSpec, traverse_code


def image_grid(images: np.ndarray, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tiles images [rows * cols, H, W, C] (row-major, in [0, 1]) into one uint8 image with a grey border."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 0.5, np.float32)
    for k in range(n):
        r, col = divmod(k, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = images[
            k
        ]
    return np.round(np.clip(grid, 0, 1) * 255).astype(np.uint8)


def traversal_grids(generator, spec: LatentSpec, base: dict[str, tf.Tensor]) -> dict[str, np.ndarray]:
    """One uint8 grid per code: rows = the fixed `base` latents, columns = the code's values."""
    grids = {}
    for code in spec.code_names:
        latent, cols = traverse_code(spec, code, base)
        images = generator(latent, training=False)
        grids[code] = image_grid(images.numpy(), int(base["z"].shape[0]), cols)
    return grids


def write_png(path: str, grid: np.ndarray) -> None:
    """Writes a uint8 [H, W, C] array as PNG, atomically (readers never see half a file)."""
    tmp = path + ".tmp"
    tf.io.write_file(tmp, tf.io.encode_png(grid))
    os.replace(tmp, path)

"""Data on this machine: a user's `.npz` file or image folder (`--dataset=npz|folder --data_path=...`),
and the handwritten digits shipped inside scikit-learn (`--dataset=digits`).

All load into uint8 images [N, H, W, C] (C = 1 or 3) plus optional integer labels [N] and, for
`.npz`, optional ground-truth factors [N, F]. Every problem is a ConfigError naming the file.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np
from absl import logging
from PIL import Image
from sklearn import datasets as sklearn_datasets

from infogan_tf.config import ConfigError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _images_to_uint8(images: np.ndarray, where: str) -> np.ndarray:
    """uint8 0-255 or float 0-1 pixels [N, H, W[, C]] -> uint8 [N, H, W, C], or a ConfigError."""
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ConfigError(
            f"{where}: 'images' must have shape (N, H, W) or (N, H, W, C) with C 1 or 3, not {images.shape}."
        )
    if len(images) == 0:
        raise ConfigError(f"{where}: 'images' holds no images.")
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ConfigError(f"{where}: 'images' must be uint8 (0-255) or float (0-1), not {images.dtype}.")
    if not np.all(np.isfinite(images)):
        raise ConfigError(f"{where}: 'images' contains NaN or infinite pixels; clean or drop those images.")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        raise ConfigError(
            f"{where}: float 'images' must lie in [0, 1], found [{low:g}, {high:g}]; divide by 255 or save as uint8."
        )
    return np.round(images * 255.0).astype(np.uint8)


def _dsprites_layout(names) -> bool:
    """Whether an .npz holding the arrays `names` is in dSprites' published layout."""
    return "images" not in names and {"imgs", "latents_classes"} <= set(names)


def is_dsprites_npz(path: str | None) -> bool:
    """Whether `path` is an .npz in dSprites' published layout ('imgs', 'latents_classes')."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return _dsprites_layout(archive.files)
    except (OSError, ValueError, TypeError, zipfile.BadZipFile, EOFError):
        return False


def load_npz(path: str | None, flag: str = "--data_path"):
    """(images uint8 [N, H, W, C], labels int64 [N] or None, factors float32 [N, F] or None).

    The arrays 'images' [, 'labels', 'factors'], or dSprites' own file as published ('imgs',
    'latents_classes'): its factors are the five that vary, its labels the shape. Errors name `flag`."""
    if not path:
        raise ConfigError("--dataset=npz needs --data_path=FILE.npz (arrays 'images', optional 'labels', 'factors').")
    if not os.path.isfile(path):
        raise ConfigError(f"{flag}={path} does not exist or is not a file.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            if _dsprites_layout(names):
                # dSprites' own file (dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz): 0/1 pixels, and
                # the classes of colour (one value), shape, scale, orientation, x and y per image.
                arrays = {"imgs": archive["imgs"], "latents_classes": archive["latents_classes"]}
            else:
                arrays = {name: archive[name] for name in ("images", "labels", "factors") if name in names}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ConfigError(f"{flag}={path} is not a readable .npz file ({error}); save it with numpy.savez.") from None
    if "latents_classes" in arrays:
        classes, pixels = arrays["latents_classes"], arrays["imgs"]
        if classes.ndim != 2 or classes.shape[1] != 6 or pixels.dtype != np.uint8 or pixels.max(initial=0) > 1:
            raise ConfigError(
                f"{path}: dSprites' 'imgs' must be 0/1 uint8 and 'latents_classes' have 6 columns, "
                f"not {pixels.dtype} and {classes.shape}; use the file as published, or save 'images' and 'factors'."
            )
        arrays = {"images": pixels * np.uint8(255), "factors": classes[:, 1:], "labels": classes[:, 1]}
    if "images" not in arrays:
        raise ConfigError(
            f"{path} has no 'images' array, nor dSprites' 'imgs' and 'latents_classes' "
            f"(it has: {', '.join(sorted(names)) or 'nothing'})."
        )
    images = _images_to_uint8(arrays["images"], path)
    n = len(images)
    labels = arrays.get("labels")
    if labels is not None:
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or (n and labels.min() < 0):
            raise ConfigError(
                f"{path}: 'labels' must be {n} non-negative integers (one per image), "
                f"not {labels.dtype} of shape {labels.shape}."
            )
        labels = labels.astype(np.int64)
    factors = arrays.get("factors")
    if factors is not None:
        if factors.ndim != 2 or len(factors) != n or not np.issubdtype(factors.dtype, np.number):
            raise ConfigError(
                f"{path}: 'factors' must be numbers of shape ({n}, F), one row per image, "
                f"not {factors.dtype} of shape {factors.shape}."
            )
        if not np.all(np.isfinite(factors)):
            raise ConfigError(f"{path}: 'factors' contains NaN or infinite values.")
        factors = factors.astype(np.float32)
    return images, labels, factors


def _image_paths(root: str) -> list[str]:
    paths = []
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        paths += [os.path.join(directory, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS)]
    return paths


def load_folder(path: str | None, size: int | None = None, dataset: str = "folder", flag: str = "--data_path"):
    """(images uint8 [N, S, S, C], labels int64 [N] or None, class names or None) from a folder tree.

    PNG/JPEG files anywhere below `path`. When every image sits in a first-level subfolder, the
    subfolder names (sorted) are the labels. Grayscale images give C = 1, anything else C = 3;
    transparent pixels are composited on white. Each image is cropped to its central square and resized
    to `size` (default: the first image's side). Unreadable files are skipped with a warning naming them.
    Errors name `flag`.
    """
    if not path:
        raise ConfigError(f"--dataset={dataset} needs --data_path=DIR, a folder of PNG or JPEG images.")
    if not os.path.isdir(path):
        raise ConfigError(f"{flag}={path} is not a directory.")
    paths = _image_paths(path)
    if not paths:
        raise ConfigError(f"{flag}={path} holds no PNG or JPEG images (searched recursively).")
    classes = folder_classes(path, paths)
    labelled = classes is not None

    images, labels, skipped, gray = [], [], [], True
    for file in paths:
        try:
            with Image.open(file) as image:
                image.load()
                gray &= image.mode in ("L", "LA", "1", "I;16", "I")
                if "A" in image.getbands() or "transparency" in image.info:  # transparent pixels: on white
                    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
                    image = Image.alpha_composite(white, image.convert("RGBA"))
                images.append(image.convert("RGB"))
        except (OSError, ValueError, SyntaxError) as error:
            logging.warning("Skipping unreadable image %s: %s", file, error)
            skipped.append(file)
            continue
        if classes is not None:
            labels.append(classes.index(os.path.relpath(file, path).split(os.sep)[0]))
    if skipped:
        logging.warning("%d unreadable image(s) skipped in %s.", len(skipped), path)
    if not images:
        raise ConfigError(f"{flag}={path}: none of its {len(paths)} image files could be read.")
    size = size or min(images[0].size)
    arrays = []
    for image in images:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        square = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BOX)
        arrays.append(np.asarray(square.convert("L") if gray else square, np.uint8))
    stacked = np.stack(arrays)
    if gray:
        stacked = stacked[..., None]
    return stacked, (np.asarray(labels, np.int64) if labelled else None), classes


def folder_classes(path: str, paths: list[str] | None = None) -> list[str] | None:
    """The sorted first-level subfolders of `path` holding its images (`paths`, default all found): the
    label names, the label being the index; None when some image is not in a subfolder (no labels)."""
    relative = [os.path.relpath(p, path) for p in (_image_paths(path) if paths is None else paths)]
    if not relative or not all(os.sep in r for r in relative):
        return None
    return sorted({r.split(os.sep)[0] for r in relative})


def load_digits():
    """(images uint8 [1797, 28, 28, 1], labels int64 [1797], None): scikit-learn's real handwritten digits
    (UCI optdigits, 8x8, ink 0-16) laid out like MNIST: white ink on black, the digit resized to 20x20
    (bicubic) and centred in a 28x28 frame, so the MNIST preset and networks apply unchanged."""
    digits = sklearn_datasets.load_digits()
    frames = np.zeros((len(digits.images), 28, 28), np.uint8)
    for frame, image in zip(frames, digits.images, strict=True):
        small = Image.fromarray(np.round(image * (255.0 / 16.0)).astype(np.uint8))
        frame[4:24, 4:24] = np.asarray(small.resize((20, 20), Image.Resampling.BICUBIC))
    return frames[..., None], digits.target.astype(np.int64), None

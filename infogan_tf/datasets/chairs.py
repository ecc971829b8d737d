"""3D chairs (Aubry et al. 2014, "Seeing 3D chairs") as a TFDS builder with a manual download.

The user downloads `rendered_chairs.tar` into `--manual_dir`; the builder reads the tar itself or
its extracted `rendered_chairs/` folder. Layout:
`rendered_chairs/<model_hash>/renders/image_<NNN>_p<elevation>_t<azimuth>_r<distance>.png`.

Each render (600x600, a gray chair on white) becomes a 64x64x1 grayscale image: the tight bounding
box of the non-white pixels, grown to a square around its centre plus a margin (white where it
leaves the frame), resized with Pillow's area-averaging filter. Elevation and azimuth are parsed
from the file name and kept, with the model index, as ground-truth factors. Splits are by chair
model (every model in exactly one split), so the test split holds chairs never seen in training: a
hash of the model's name decides, except that a subset of the models always gets both splits (one
model: `train` only).
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zlib

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging
from PIL import Image

from infogan_tf.config import Config, ConfigError
from infogan_tf.datasets import base

IMAGE_SIZE = 64
TAR_NAME = "rendered_chairs.tar"
FOLDER_NAME = "rendered_chairs"
URL = "https://www.di.ens.fr/willow/research/seeing3Dchairs/data/rendered_chairs.tar"
# A render: <model_hash>/renders/image_<NNN>_p<elevation>_t<azimuth>_r<distance>.png (any prefix).
_RENDER = re.compile(r"(?:^|/)(?P<model>[^/]+)/renders/image_\d+_p(?P<elev>\d+)_t(?P<azim>\d+)_r\d+\.png$")
_BACKGROUND = 250  # grayscale values above this are the white background.
_MARGIN = 0.08  # of the bounding box's longer side, added on each side before resizing.
_TEST_MODELS_PERCENT = 10  # models whose name hashes (CRC32) to < 10 % go to the test split.


class ChairsError(ConfigError):
    """The manual download is missing or has the wrong layout."""


def parse_render_path(path: str) -> dict | None:
    """The model name, elevation and azimuth (degrees) of a render's path; None if not a render."""
    match = _RENDER.search(path.replace(os.sep, "/"))
    if not match:
        return None
    return {"model_name": match["model"], "elevation": int(match["elev"]), "azimuth": int(match["azim"])}


def _bucket(model_name: str) -> int:
    return zlib.crc32(model_name.encode()) % 100


def split_of(model_name: str) -> str:
    """`train` or `test` for a chair model, fixed by a hash of its name (independent of the files present)."""
    return "test" if _bucket(model_name) < _TEST_MODELS_PERCENT else "train"


def assign_splits(models) -> dict[str, str]:
    """Each chair model's split: `split_of`, except that with 2 or more models neither split is empty
    (the model whose hash lies nearest the other side moves) and a single model goes to `train`."""
    splits = {name: split_of(name) for name in sorted(models)}
    if len(splits) == 1:
        return dict.fromkeys(splits, "train")
    if "test" not in splits.values():
        splits[min(splits, key=_bucket)] = "test"
    if "train" not in splits.values():
        splits[max(splits, key=_bucket)] = "train"
    return splits


def download_hint(manual_dir: str) -> str:
    """What belongs in --manual_dir, and where to get it."""
    return (
        f"download {TAR_NAME} from {URL} and put it, or the {FOLDER_NAME}/ folder extracted from it, "
        f"in --manual_dir={manual_dir}"
    )


def preprocess(png_bytes: bytes) -> np.ndarray:
    """A render's PNG bytes -> uint8 [64, 64, 1]: crop a square around the chair, then resize.

    Raises OSError / ValueError for a corrupt or truncated PNG (Pillow's errors).
    """
    with Image.open(io.BytesIO(png_bytes)) as image:
        image.load()  # decode now, so truncated data fails here
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, image)
        gray = image.convert("L")
    pixels = np.asarray(gray)
    rows, cols = np.nonzero(pixels <= _BACKGROUND)
    if rows.size == 0:  # a blank render: keep the whole frame
        top, bottom, left, right = 0, pixels.shape[0], 0, pixels.shape[1]
    else:
        top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    side = max(bottom - top, right - left) * (1 + 2 * _MARGIN)
    cy, cx = (top + bottom) / 2, (left + right) / 2
    box = tuple(int(round(v)) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
    # `crop` pads outside the image with zeros: crop from a white-padded copy instead.
    pad = int(side)
    padded = Image.new("L", (gray.width + 2 * pad, gray.height + 2 * pad), 255)
    padded.paste(gray, (pad, pad))
    square = padded.crop(tuple(v + pad for v in box))
    small = square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.asarray(small, np.uint8)[..., None]


def find_source(manual_dir: str) -> str:
    """The tar (preferred) or the extracted folder inside `manual_dir`."""
    if os.path.isfile(manual_dir) and os.path.basename(manual_dir) == TAR_NAME:
        raise ChairsError(
            f"--manual_dir={manual_dir} is the tar itself: pass the folder holding it, "
            f"--manual_dir={os.path.dirname(manual_dir) or '.'}."
        )
    if not os.path.isdir(manual_dir):
        what = "is a file, not a folder" if os.path.exists(manual_dir) else "does not exist"
        raise ChairsError(f"--manual_dir={manual_dir} {what}: {download_hint(manual_dir)}.")
    if not os.listdir(manual_dir):
        raise ChairsError(f"--manual_dir={manual_dir} is empty: {download_hint(manual_dir)}.")
    candidates = [
        os.path.join(manual_dir, TAR_NAME),
        os.path.join(manual_dir, FOLDER_NAME),
    ]
    for path in candidates:
        if os.path.exists(path):
            return path
    # The user may also point --manual_dir at the extracted folder itself.
    if os.path.isdir(manual_dir) and any(
        os.path.isdir(os.path.join(manual_dir, name, "renders")) for name in os.listdir(manual_dir)
    ):
        return manual_dir
    raise ChairsError(
        f"--manual_dir={manual_dir} holds neither {TAR_NAME} nor its extracted {FOLDER_NAME}/ folder: "
        f"{download_hint(manual_dir)}."
    )


def _iter_files(source: str):
    """(path, bytes-reader) for every file of the tar or folder, in a deterministic order."""
    if os.path.isdir(source):
        for root, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                yield os.path.relpath(path, source), lambda path=path: open(path, "rb").read()
        return
    try:
        archive = tarfile.open(source, "r:*")
    except (tarfile.TarError, OSError) as error:
        reason = " ".join(str(error).split())  # tarfile lists one reason per compression method, one per line
        raise ChairsError(f"{source} is not a readable tar file ({reason}); download {URL} again.") from error
    with archive:
        try:
            for member in archive:
                if member.isfile():
                    yield member.name, lambda member=member: archive.extractfile(member).read()
        except (tarfile.TarError, EOFError, OSError) as error:
            raise ChairsError(f"{source} is truncated or damaged ({error}); download {URL} again.") from None


class RenderedChairs(tfds.core.GeneratorBasedBuilder):
    """The 3D chairs renders, 64x64 grayscale, with model, elevation and azimuth."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "64x64 grayscale, square crop around the chair, splits by model."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
Download {URL}
(about 1,393 chair models x 62 views) and put `{TAR_NAME}` into the manual directory
(`--manual_dir`). The tar itself or its extracted `{FOLDER_NAME}/` folder are both accepted. Layout:
{FOLDER_NAME}/<model_hash>/renders/image_<NNN>_p<elevation>_t<azimuth>_r<distance>.png
(elevation p020/p030, 31 azimuths, distance r096) plus all_chair_names.mat, which is not needed.
"""

    def _info(self) -> tfds.core.DatasetInfo:
        # Constructed directly: a builder outside a registered package cannot use dataset_info_from_configs.
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(IMAGE_SIZE, IMAGE_SIZE, 1)),
                    "model": tfds.features.Scalar(np.int32, doc="index of the chair model, sorted by name"),
                    "model_name": tfds.features.Text(),
                    "elevation": tfds.features.Scalar(np.int32, doc="degrees"),
                    "azimuth": tfds.features.Scalar(np.int32, doc="degrees"),
                }
            ),
            homepage="https://www.di.ens.fr/willow/research/seeing3Dchairs/",
            citation="@inproceedings{aubry2014seeing, title={Seeing 3D chairs: exemplar part-based 2D-3D "
            "alignment using a large dataset of CAD models}, author={Aubry, Mathieu and Maturana, Daniel and "
            "Efros, Alexei A. and Russell, Bryan C. and Sivic, Josef}, booktitle={CVPR}, year={2014}}",
        )

    def _split_generators(self, dl_manager):
        source = find_source(os.fspath(dl_manager.manual_dir))
        models = sorted({info["model_name"] for path, _ in _iter_files(source) if (info := parse_render_path(path))})
        if not models:
            raise ChairsError(
                f"{source} contains no renders named <model_hash>/renders/image_<NNN>_p<elev>_t<azim>_r<dist>.png: "
                f"{download_hint(os.fspath(dl_manager.manual_dir))}."
            )
        splits = assign_splits(models)
        if len(models) == 1:
            logging.warning(
                "%s holds 1 chair model (%s): all of it is the train split; there is no test split.", source, models[0]
            )
        index = {name: i for i, name in enumerate(models)}
        return {
            split: self._generate_examples(source, index, splits, split)
            for split in ("train", "test")
            if split in splits.values()
        }

    def _generate_examples(self, source: str, model_index: dict[str, int], splits: dict[str, str], split: str):
        skipped = []
        for path, read in _iter_files(source):
            info = parse_render_path(path)
            if info is None or splits[info["model_name"]] != split:
                continue
            try:
                image = preprocess(read())
            except (OSError, ValueError, SyntaxError) as error:  # Pillow's errors for corrupt/truncated PNGs
                where = os.path.join(source, path)  # for a tar: the tar's path, then the member's
                logging.warning("Skipping corrupt render %s: %s", where, error)
                skipped.append(where)
                continue
            yield path, {"image": image, "model": model_index[info["model_name"]], **info}
        if skipped:
            logging.warning("%d corrupt render(s) skipped in the %s split: %s", len(skipped), split, ", ".join(skipped))


def prepared_builder(config: Config) -> RenderedChairs:
    """The prepared 3D chairs builder: built from `--manual_dir` on first use, then read from `--data_dir`."""
    builder = RenderedChairs(data_dir=config.data_dir)
    if not os.path.exists(os.path.join(builder.data_dir, "dataset_info.json")):
        if not config.manual_dir:
            raise ConfigError(f"--dataset=chairs is not prepared in {builder.data_dir}: {download_hint('DIR')}.")
        find_source(config.manual_dir)  # a clear error for a missing download, before TFDS starts
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=config.manual_dir))
    return builder


class Chairs(base.DataSource):
    """`--dataset=chairs`: the prepared renders in memory; elevation and azimuth are its factors (the chair
    model is an identity, not a factor of variation)."""

    # 3D chairs (Aubry et al. 2014), the paper's Appendix C.5: 3 x Cat(20) + 1 x Unif(-1, 1), noise 128
    # (Sec. 7.4's text says 4 x Cat(20): --categorical=20,20,20,20 --continuous=0), its chairs networks
    # with D and Q sharing everything but the output units (q_hidden=0; --q_hidden=128 adds Q's own
    # FC128 layer as in the MNIST network), G lr 1e-3, D lr 2e-4, batch 64. Our choices: lambda_cont
    # 0.1 (the paper says only "smaller" than lambda_cat = 1), the step count and cadences, and D/Q
    # without batch norm (Glorot kernels): with it, this spec collapsed G by step 1,250 on all of MNIST laid
    # out as chairs (benchmarks/mnist_as_chairs.py; diversity 0.04-0.06 of the data's, eval L_I per code
    # negative); without it, diversity stayed >= 0.82 and every code's eval L_I >= 2.81 of 3.00 nats
    # (BUILD_NOTES.md, 2026-12-05). The paper's batch norm: --d_batch_norm.
    preset = Config(
        dataset="chairs",
        noise_dim=128,
        categorical=(20, 20, 20),
        continuous=1,
        q_hidden=0,
        d_batch_norm=False,
        info_weight_cat=1.0,
        info_weight_cont=0.1,
        architecture="chairs",
        image_shape=(64, 64, 1),
        lr_g=1e-3,
        lr_d=2e-4,
        batch_size=64,
        steps=50_000,
        log_every=100,
        checkpoint_every=1000,
        sample_every=1000,
        eval_every=5000,
    )
    factor_features = ("elevation", "azimuth")

    def train_dataset(self, config: Config) -> tf.data.Dataset:
        images = tfds.as_numpy(prepared_builder(config).as_dataset(split="train", batch_size=-1))["image"]
        return base.in_memory_dataset(images, config.batch_size, config.seed)

    def real_images(self, config: Config, num_examples: int) -> np.ndarray:
        split = prepared_builder(config).as_dataset(split="train")
        return base.to_arrays(split, config, None, limit=num_examples)[0].astype(np.float32) / 255.0

    def factor_eval_set(self, config: Config, num_examples: int):
        split = prepared_builder(config).as_dataset(split="train")
        subset = base.uniform_subset(split, num_examples, config.seed + base.FACTOR_SEED_OFFSET)
        images, factors = base.to_arrays(subset, config, self.factor_features)
        return images.astype(np.float32) / 255.0, factors

    def factor_names(self, config: Config) -> list[str]:
        del config
        return list(self.factor_features)


CHAIRS = Chairs()

"""The 3D chairs TFDS builder on a tiny tree / tar in the true layout, and training on it via train.py."""

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from infogan_tf import datasets, evaluate, export, performance
from infogan_tf.config import PRESETS, ConfigError, read_workdir_config
from infogan_tf.datasets import chairs
from infogan_tf.train import train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# chair_00 hashes into the test split, chair_01 and chair_02 into train (chairs.split_of).
MODELS = ("chair_00", "chair_01", "chair_02")
VIEWS = ((20, 0), (20, 11), (30, 0), (30, 348))  # (elevation, azimuth) in degrees
CORRUPT = "rendered_chairs/chair_01/renders/image_005_p020_t022_r096.png"


def _render(model: int, view: int) -> bytes:
    """A 600x600 RGB render: white, with a gray 'chair' box whose place and size vary."""
    image = np.full((600, 600, 3), 255, np.uint8)
    top, left = 150 + 20 * model, 200 + 15 * view
    image[top : top + 200, left : left + 120] = 90 + 30 * model
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _files() -> dict[str, bytes]:
    files = {"rendered_chairs/all_chair_names.mat": b"MATLAB 5.0 MAT-file, not read"}
    for m, model in enumerate(MODELS):
        files[f"rendered_chairs/{model}/renders/notes.txt"] = b"not a render"
        for v, (elevation, azimuth) in enumerate(VIEWS):
            name = f"rendered_chairs/{model}/renders/image_{v:03d}_p{elevation:03d}_t{azimuth:03d}_r096.png"
            files[name] = _render(m, v)
    files[CORRUPT] = _render(1, 0)[:300]  # a truncated PNG
    return files


@pytest.fixture(scope="module")
def manual_dirs(tmp_path_factory):
    """Two manual dirs holding the same tree: extracted, and as rendered_chairs.tar."""
    base = tmp_path_factory.mktemp("chairs")
    folder, tar = base / "folder", base / "tar"
    tar.mkdir()
    with tarfile.open(tar / chairs.TAR_NAME, "w") as archive:
        for name, data in sorted(_files().items()):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return {"folder": str(folder), "tar": str(tar)}


def _prepare(manual_dir, data_dir):
    builder = chairs.RenderedChairs(data_dir=str(data_dir))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    return builder


def _examples(builder, split):
    """A split's examples, sorted by model, elevation and azimuth."""
    examples = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
    order = np.lexsort((examples["azimuth"], examples["elevation"], examples["model"]))
    return {key: value[order] for key, value in examples.items()}


def test_render_paths_are_parsed():
    info = chairs.parse_render_path("rendered_chairs/1a6f/renders/image_017_p030_t348_r096.png")
    assert info == {"model_name": "1a6f", "elevation": 30, "azimuth": 348}
    assert chairs.parse_render_path("rendered_chairs/1a6f/renders/notes.txt") is None
    assert chairs.parse_render_path("rendered_chairs/all_chair_names.mat") is None
    assert [chairs.split_of(m) for m in MODELS] == ["test", "train", "train"]


@pytest.mark.parametrize("layout", ["folder", "tar"])
def test_builder_builds_splits_by_model_and_skips_bad_files(manual_dirs, tmp_path, caplog, layout):
    with caplog.at_level(logging.WARNING):
        builder = _prepare(manual_dirs[layout], tmp_path / "tfds")
    # The corrupt render is skipped and named; notes.txt and the .mat file are ignored.
    corrupt = CORRUPT.split("/", 1)[1]  # named under the manual dir's tar or folder
    assert any(corrupt in r.getMessage() and "1 corrupt" in r.getMessage() for r in caplog.records), caplog.text
    assert builder.info.splits["train"].num_examples == 2 * len(VIEWS)
    assert builder.info.splits["test"].num_examples == len(VIEWS)

    train, test = _examples(builder, "train"), _examples(builder, "test")
    assert set(test["model_name"]) == {b"chair_00"} and set(test["model"]) == {0}
    assert list(train["model_name"]) == [b"chair_01"] * 4 + [b"chair_02"] * 4
    assert list(train["model"]) == [1] * 4 + [2] * 4
    assert [(int(e), int(a)) for e, a in zip(train["elevation"], train["azimuth"], strict=True)][:4] == list(VIEWS)
    assert train["image"].shape == (8, 64, 64, 1) and train["image"].dtype == np.uint8


def test_tar_and_folder_give_the_same_images(manual_dirs, tmp_path):
    a = _examples(_prepare(manual_dirs["folder"], tmp_path / "a"), "train")
    b = _examples(_prepare(manual_dirs["tar"], tmp_path / "b"), "train")
    np.testing.assert_array_equal(a["image"], b["image"])


def test_crop_frames_the_chair():
    image = chairs.preprocess(_render(0, 0))[..., 0]
    # The 200x120 box is framed by a square 8 % larger than its long side: it spans the full height
    # (minus the margin) and is centred, with white on both sides.
    assert image[32, 32] == 90 and image[32, 2] == 255 and image[32, 61] == 255
    rows = np.nonzero((image < 200).any(axis=1))[0]
    assert 3 <= rows.min() <= 5 and 58 <= rows.max() <= 60
    with pytest.raises(OSError):
        chairs.preprocess(_render(0, 0)[:300])


def test_missing_or_wrong_manual_downloads_are_clear_errors(manual_dirs, tmp_path):
    def prepare(manual_dir):
        config = dataclasses.replace(PRESETS["chairs"], data_dir=str(tmp_path / "tfds"), manual_dir=manual_dir)
        return chairs.prepared_builder(config)

    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"--manual_dir=.*empty is empty: download rendered_chairs.tar from https"):
        prepare(str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"--manual_dir=.*missing does not exist: download rendered_chairs.tar"):
        prepare(str(tmp_path / "missing"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / chairs.TAR_NAME).write_bytes(b"this is not a tar")
    with pytest.raises(ConfigError, match="rendered_chairs.tar is not a readable tar file"):
        prepare(str(tmp_path / "bad"))
    (tmp_path / "cut").mkdir()
    whole = (Path(manual_dirs["tar"]) / chairs.TAR_NAME).read_bytes()
    (tmp_path / "cut" / chairs.TAR_NAME).write_bytes(whole[: len(whole) // 2])  # a download cut short
    with pytest.raises(ConfigError, match="rendered_chairs.tar is truncated or damaged"):
        prepare(str(tmp_path / "cut"))
    (tmp_path / "wrong" / chairs.FOLDER_NAME / "x").mkdir(parents=True)
    with pytest.raises(ConfigError, match="contains no renders"):
        prepare(str(tmp_path / "wrong"))
    with pytest.raises(
        ConfigError, match="--dataset=chairs is not prepared .*: download rendered_chairs.tar .* in --manual_dir=DIR"
    ):
        prepare(None)


def test_splits_of_a_subset_are_never_empty():
    by_hash = {name: chairs.split_of(name) for name in (f"m{i}" for i in range(200))}
    test_names = sorted(name for name, split in by_hash.items() if split == "test")[:2]
    train_names = sorted(name for name, split in by_hash.items() if split == "train")[:3]
    # Enough models on both sides: the hash decides alone (the full dataset's split does not move).
    both = test_names[:1] + train_names
    assert chairs.assign_splits(both) == {name: by_hash[name] for name in both}
    # All on one side: the model hashing nearest the other side moves over, and only that one.
    for names, lone in ((train_names, "test"), (test_names, "train")):
        splits = chairs.assign_splits(names)
        moved = [name for name in names if splits[name] != by_hash[name]]
        assert len(moved) == 1 and splits[moved[0]] == lone
        key = lambda name: zlib.crc32(name.encode()) % 100  # noqa: E731
        assert moved[0] == (min(names, key=key) if lone == "test" else max(names, key=key))
    assert chairs.assign_splits(train_names[:1]) == {train_names[0]: "train"}
    assert chairs.assign_splits(test_names[:1]) == {test_names[0]: "train"}


def _subset_dirs(base: Path, count: int) -> dict[str, str]:
    """A tree and a tar of the first `count` models of MODELS (no corrupt file): {"folder": DIR, "tar": DIR}."""
    files = {
        name: data
        for name, data in _files().items()
        if name != CORRUPT and any(f"/{model}/" in name for model in MODELS[:count])
    }
    folder, tar = base / f"folder{count}", base / f"tar{count}"
    tar.mkdir(parents=True)
    with tarfile.open(tar / chairs.TAR_NAME, "w") as archive:
        for name, data in sorted(files.items()):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return {"folder": str(folder), "tar": str(tar)}


@pytest.mark.parametrize("count", [1, 2, 3])
def test_subsets_of_1_2_and_3_models_build_as_tree_and_tar_and_1_model_trains(tmp_path, caplog, count, shapes_config):
    # chair_01 and chair_02 both hash to train: with 2 models one of them becomes the test split.
    expected = {1: {"train": 1}, 2: {"train": 1, "test": 1}, 3: {"train": 2, "test": 1}}[count]
    prepared, dirs = {}, _subset_dirs(tmp_path, count)
    for layout, manual_dir in dirs.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            builder = _prepare(manual_dir, tmp_path / f"tfds_{layout}")
        splits = {name: info.num_examples // len(VIEWS) for name, info in builder.info.splits.items()}
        assert splits == expected, (layout, splits)
        warned = [r.getMessage() for r in caplog.records if "holds 1 chair model" in r.getMessage()]
        assert len(warned) == (count == 1), caplog.text
        prepared[layout] = {split: _examples(builder, split) for split in expected}
    for split in expected:  # the tree and the tar give the same examples
        for key in ("image", "model", "elevation", "azimuth"):
            np.testing.assert_array_equal(prepared["folder"][split][key], prepared["tar"][split][key])
    if count == 1:
        # Training reads the prepared train split of a single model: 2 steps on the tree's (the tar's
        # examples are the same, asserted above; the 3-model tar with a corrupt render trains in
        # test_train_py_trains_on_chairs).
        config = dataclasses.replace(
            shapes_config,
            dataset="chairs",
            data_dir=str(tmp_path / "tfds_folder"),
            manual_dir=dirs["folder"],
            steps=2,
            batch_size=4,
        )
        results = train_and_evaluate(config, str(tmp_path / "run"))
        assert results["step"] == 2 and np.isfinite(results["g_loss"]), results
        assert (tmp_path / "run" / "checkpoints" / "ckpt-2.index").exists()


def test_train_py_trains_on_chairs(manual_dirs, tmp_path):
    workdir = tmp_path / "run"
    command = [
        sys.executable,
        os.path.join(ROOT, "train.py"),
        "--dataset=chairs",
        f"--manual_dir={manual_dirs['tar']}",
        f"--data_dir={tmp_path / 'tfds'}",
        f"--workdir={workdir}",
        "--steps=2",
        "--batch_size=4",
        "--log_every=1",
        "--eval_every=2",
        "--sample_every=2",
        "--checkpoint_every=2",
        "--eval_samples=16",
        "--factor_eval_samples=64",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    stored = read_workdir_config(str(workdir))
    last_code = f"cat{len(stored.categorical) - 1}" if stored.categorical else f"cont{stored.continuous - 1}"
    assert (workdir / "samples" / f"{last_code}_step0000002.png").exists()
    assert "step 2/2" in done.stderr
    # MIG and FactorVAE against the renders' elevation and azimuth: recomputed here from the step-2
    # checkpoint's Q on the training split's renders, they are exactly what eval.json holds.
    evaluation = json.loads((workdir / "eval.json").read_text())
    assert evaluation["step"] == 2
    policy = keras.config.dtype_policy()
    try:
        # The networks in the precision the run resolved and trained in (config.json).
        performance.set_precision_policy(stored.mixed_precision)
        config, _, discriminator, path = export.restore(str(workdir))
        assert path.endswith("-2")
        images, factors = datasets.get(config.dataset).factor_eval_set(config, config.factor_eval_samples)
        q = discriminator(tf.constant(images), training=False)
    finally:
        keras.config.set_dtype_policy(policy)
    # Every render of the train split (2 chairs x 4 views; fewer than asked for), with its own view.
    assert sorted(map(tuple, factors.tolist())) == sorted(list(VIEWS) * 2)
    n_cat = len(config.categorical)
    cat_logits = np.split(q["cat_logits"].numpy(), np.cumsum(config.categorical)[:-1], axis=1) if n_cat else []
    codes = np.concatenate([np.argmax(part, axis=1)[:, None] for part in cat_logits] + [q["cont_mean"]], axis=1)
    assert codes.shape == (8, n_cat + config.continuous) and config.continuous > 0
    # Q reads each render: a Q that ignored its input would give the 8 different renders one value
    # (to the bit; inference has no batch statistics). After 2 steps Q's outputs differ only in the
    # 4th significant digit, so the test asks for different values, not for a spread.
    assert all(len(np.unique(column)) > 1 for column in codes[:, n_cat:].T), codes
    assert evaluation["mig"] == pytest.approx(evaluate.mig(codes, factors), abs=1e-9)
    assert evaluation["factor_vae"] == evaluate.factor_vae(codes, factors, np.random.default_rng(config.seed))
    assert (workdir / "figures" / "info_lb.png").exists() and (workdir / "figures" / "traversals.png").exists()

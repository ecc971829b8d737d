"""Every bad flag, file and data input the user can give train.py / reproduce.py: one clear sentence
(a ConfigError) naming the flag or file, before the run writes anything.

`python tests/test_bad_inputs.py` prints the table of BUILD_NOTES.md (input -> what the user sees);
export and serving inputs are checked in tests/test_export.py.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import sys
import tarfile

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conftest import TINY_RUN  # noqa: E402

from infogan_tf import config as config_lib  # noqa: E402
from infogan_tf import recipes  # noqa: E402
from infogan_tf.config import PRESETS, ConfigError  # noqa: E402
from infogan_tf.train import train_and_evaluate  # noqa: E402

# What every chairs download error says: the file, its URL, that the tar or its folder works, and where.
CHAIRS_DOWNLOAD = (
    "download rendered_chairs.tar from https://www.di.ens.fr/willow/research/seeing3Dchairs/data/rendered_chairs.tar "
    "and put it, or the rendered_chairs/ folder extracted from it, in --manual_dir="
)


def _train(tmp: pathlib.Path, dataset: str = "shapes", **overrides):
    config = dataclasses.replace(PRESETS[dataset], **{**TINY_RUN, **overrides})
    train_and_evaluate(config, str(tmp / "run"))


def _flags(**overrides):
    return lambda tmp: config_lib.resolve("shapes", overrides)


def _npz(tmp: pathlib.Path, **arrays) -> str:
    path = tmp / "data.npz"
    np.savez(path, **arrays)
    return str(path)


def _npz_case(**arrays):
    return lambda tmp: _train(tmp, "npz", data_path=_npz(tmp, **arrays))


def _workdir_with(tmp: pathlib.Path, text: str):
    (tmp / "run").mkdir()
    (tmp / "run" / "config.json").write_text(text)
    _train(tmp)


def _folder(tmp: pathlib.Path, files: dict[str, bytes]) -> str:
    for name, data in files.items():
        (tmp / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "images" / name).write_bytes(data)
    return str(tmp / "images")


def _not_a_tar(tmp: pathlib.Path):
    (tmp / "manual").mkdir()
    (tmp / "manual" / "rendered_chairs.tar").write_bytes(b"this is not a tar archive" * 10)
    _train(tmp, "chairs", manual_dir=str(tmp / "manual"), data_dir=str(tmp / "tfds"))


def _empty_tar(tmp: pathlib.Path):
    (tmp / "manual").mkdir()
    with tarfile.open(tmp / "manual" / "rendered_chairs.tar", "w"):
        pass
    _train(tmp, "chairs", manual_dir=str(tmp / "manual"), data_dir=str(tmp / "tfds"))


def _unreadable_checkpoints(tmp: pathlib.Path):
    (tmp / "run" / "checkpoints").mkdir(parents=True)
    for number in (2, 4):
        (tmp / "run" / "checkpoints" / f"ckpt-{number}.index").write_bytes(b"garbage")
        (tmp / "run" / "checkpoints" / f"ckpt-{number}.data-00000-of-00001").write_bytes(b"garbage")
    _train(tmp, steps=6)


def _multi_worker_without_tf_config(tmp: pathlib.Path):
    os.environ.pop("TF_CONFIG", None)
    _train(tmp, strategy="multi_worker")


def _bad_tf_config(tmp: pathlib.Path):
    os.environ["TF_CONFIG"] = "{not json"
    try:
        _train(tmp)
    finally:
        del os.environ["TF_CONFIG"]


def _fig1_without_categorical(tmp: pathlib.Path):
    recipes.fig1(dataclasses.replace(PRESETS["digits"], categorical=(), **TINY_RUN), str(tmp / "run"))


# (area, the input, how it is given, the expected start of the message)
CASES = [
    ("flags", "--steps=0", _flags(steps=0), "--steps=0 must be a positive"),
    ("flags", "--batch_size=0", _flags(batch_size=0), "--batch_size=0 must be positive"),
    ("flags", "--noise_dim=-1", _flags(noise_dim=-1), "--noise_dim=-1 must be zero or positive"),
    ("flags", "--continuous=-2", _flags(continuous=-2), "--continuous=-2 must be zero or positive"),
    (
        "flags",
        "--noise_dim=0 --categorical= --continuous=0",
        _flags(noise_dim=0, categorical=(), continuous=0),
        "The latent spec is empty",
    ),
    ("flags", "--info_weight_cat=-1", _flags(info_weight_cat=-1.0), "--info_weight_cat must be zero or positive"),
    ("flags", "--info_weight_cont=-0.1", _flags(info_weight_cont=-0.1), "--info_weight_cont must be zero or positive"),
    ("flags", "--q_std=wide", _flags(q_std="wide"), "--q_std='wide' must be one of"),
    ("flags", "--strategy=tpu", _flags(strategy="tpu"), "--strategy='tpu' must be one of"),
    ("flags", "--mixed_precision=int8", _flags(mixed_precision="int8"), "--mixed_precision='int8' must be one of"),
    ("flags", "--lr_g=0", _flags(lr_g=0.0), "--lr_g and --lr_d must be positive"),
    ("flags", "--logical_cpus=-1", _flags(logical_cpus=-1), "--logical_cpus must be zero"),
    ("flags", "--g_steps=0", _flags(g_steps=0), "--g_steps=0 must be at least 1"),
    ("flags", "--noise_scale=0", _flags(noise_scale=0.0), "--noise_scale=0.0 must be positive"),
    ("flags", "--noise_scale=-0.1", _flags(noise_scale=-0.1), "--noise_scale=-0.1 must be positive"),
    ("flags", "--leaky_slope=-0.01", _flags(leaky_slope=-0.01), "--leaky_slope=-0.01 must be in [0, 1)"),
    ("flags", "--leaky_slope=1", _flags(leaky_slope=1.0), "--leaky_slope=1.0 must be in [0, 1)"),
    ("flags", "--q_optimizer=q", _flags(q_optimizer="q"), "--q_optimizer='q' must be one of d, g"),
    (
        "flags",
        "--elastic_weight=-1",
        _flags(elastic_weight=-1.0),
        "--elastic_weight=-1.0 must be zero (off) or positive",
    ),
    ("flags", "--elastic_temperature=0", _flags(elastic_temperature=0.0), "--elastic_temperature=0.0 must be positive"),
    (
        "flags",
        "--augment_rotation=-5",
        _flags(augment_rotation=-5.0),
        "--augment_rotation=-5.0 must be an angle in degrees from 0 to 180",
    ),
    (
        "flags",
        "--consistency_weight=-1",
        _flags(consistency_weight=-1.0),
        "--consistency_weight=-1.0 must be zero (off) or positive",
    ),
    (
        "flags",
        "--consistency_weight=1 --categorical=",
        _flags(consistency_weight=1.0, categorical=()),
        "--consistency_weight=1.0 acts on the categorical codes, and --categorical gives none",
    ),
    (
        "flags",
        "--elastic_weight=10 --q_hidden=0",
        _flags(elastic_weight=10.0, q_hidden=0),
        "--elastic_weight trains Q's own layers, and --q_hidden=0 leaves Q none",
    ),
    (
        "flags",
        "--q_optimizer=g --info_weight_cat=0",
        _flags(q_optimizer="g", info_weight_cat=0.0),
        "--q_optimizer=g trains Q on G's information term",
    ),
    ("flags", "--cr_weight=-1", _flags(cr_weight=-1.0), "--cr_weight=-1.0 must be zero (off) or positive"),
    ("flags", "--cr_gap=2", _flags(cr_gap=2.0), "--cr_gap=2.0 must be in [0, 2)"),
    (
        "flags",
        "--cr_weight=1 --categorical= --continuous=1",
        _flags(cr_weight=1.0, categorical=(), continuous=1),
        "--cr_weight needs at least two codes",
    ),
    (
        "flags",
        "--preset=infogan_cr --dataset=svhn",
        lambda tmp: config_lib.resolve("svhn", {}, "infogan_cr"),
        "--preset=infogan_cr is for 64x64 single-channel images",
    ),
    ("flags", "--preset=infogan", lambda tmp: config_lib.resolve("shapes", {}, "infogan"), "--preset='infogan' is not"),
    ("flags", "--keep_best=fid", _flags(keep_best="fid"), "--keep_best='fid' must be one of"),
    (
        "flags",
        "--keep_best=mig --dataset=digits",
        lambda tmp: _train(tmp, "digits", keep_best="mig"),
        "--keep_best=mig needs ground-truth factors",
    ),
    (
        "flags",
        "--diversity_floor=1.5",
        _flags(diversity_floor=1.5),
        "--diversity_floor=1.5 must be in [0, 1): a fraction of the real images' diversity.",
    ),
    (
        "flags",
        "--image_size=30",
        _flags(image_size=30),
        "--image_size=30 must be one of 28, 32 or 64 (the sides the networks are built for), or 0",
    ),
    (
        "flags",
        "--image_size=32 --dataset=shapes",
        _flags(image_size=32),
        "--image_size=32 sets the side of --dataset=npz or folder images; --dataset=shapes has its own",
    ),
    ("flags", "--log_every=0", _flags(log_every=0), "--log_every must be a positive step count"),
    ("flags", "--eval_every=-5", _flags(eval_every=-5), "--eval_every must be a positive step count"),
    ("flags", "--eval_samples=0", _flags(eval_samples=0), "--eval_samples=0 must be a positive number"),
    (
        "flags",
        "--categorical=abc",
        lambda tmp: config_lib.parse_categorical("abc"),
        "--categorical='abc' is not a comma-separated",
    ),
    (
        "flags",
        "--categorical=10,1",
        lambda tmp: config_lib.parse_categorical("10,1"),
        "--categorical='10,1': every categorical code needs at least 2",
    ),
    (
        "flags",
        "--dataset=imagenet",
        lambda tmp: config_lib.resolve("imagenet", {}),
        "--dataset='imagenet' is not available",
    ),
    (
        "flags",
        "--strategy=default --devices=/cpu:0",
        _flags(strategy="default", devices=("/cpu:0",)),
        "--devices lists devices to mirror over",
    ),
    (
        "flags",
        "--strategy=default --logical_cpus=2",
        _flags(strategy="default", logical_cpus=2),
        "--logical_cpus=2 splits the CPU",
    ),
    (
        "flags",
        "--strategy=mirrored --logical_cpus=2 --batch_size=7",
        lambda tmp: _train(tmp, strategy="mirrored", logical_cpus=2, batch_size=7),
        "--batch_size=7 must be divisible by the 2 replicas",
    ),
    (
        "flags",
        "--strategy=mirrored --logical_cpus=2 --jit_compile",
        lambda tmp: _train(tmp, strategy="mirrored", logical_cpus=2, jit_compile=True),
        "--jit_compile=true runs on one device only",
    ),
    (
        "flags",
        "--strategy=multi_worker without TF_CONFIG",
        _multi_worker_without_tf_config,
        "--strategy=multi_worker needs the TF_CONFIG",
    ),
    ("flags", "TF_CONFIG='{not json'", _bad_tf_config, "The TF_CONFIG environment variable is not valid JSON"),
    (
        "flags",
        "--baseline_workdir=DIR without a run",
        lambda tmp: _train(tmp, baseline_workdir=str(tmp / "none")),
        "--baseline_workdir=",
    ),
    (
        "workdir",
        "--workdir under a file",
        lambda tmp: (
            (tmp / "file").write_text("x"),
            train_and_evaluate(dataclasses.replace(PRESETS["shapes"], **TINY_RUN), str(tmp / "file" / "run")),
        ),
        "--workdir=",
    ),
    ("workdir", "--workdir that is a file", lambda tmp: ((tmp / "run").write_text("x"), _train(tmp)), "--workdir="),
    (
        "workdir",
        "a workdir of a model with another latent spec",
        lambda tmp: _workdir_with(tmp, dataclasses.replace(PRESETS["shapes"], categorical=(5,)).to_json()),
        "was written for a different model than the flags ask for (categorical [5] there, [3] asked for)",
    ),
    (
        "workdir",
        "a garbled config.json in the workdir",
        lambda tmp: _workdir_with(tmp, "{garbled"),
        "is not a valid config file",
    ),
    (
        "checkpoints",
        "every checkpoint in the workdir unreadable",
        _unreadable_checkpoints,
        "None of the 2 checkpoints in",
    ),
    (
        "data",
        "--dataset=npz without --data_path",
        lambda tmp: _train(tmp, "npz"),
        "--dataset=npz needs --data_path=FILE.npz",
    ),
    (
        "data",
        "--data_path=missing.npz",
        lambda tmp: _train(tmp, "npz", data_path=str(tmp / "missing.npz")),
        "does not exist or is not a file",
    ),
    (
        "data",
        "--data_path=a text file as .npz",
        lambda tmp: ((tmp / "x.npz").write_text("text"), _train(tmp, "npz", data_path=str(tmp / "x.npz"))),
        "is not a readable .npz file",
    ),
    (
        "data",
        "an .npz without 'images'",
        _npz_case(pixels=np.zeros((4, 28, 28))),
        "nor dSprites' 'imgs' and 'latents_classes' (it has: pixels)",
    ),
    (
        "data",
        "dSprites' layout with 5 factor columns",
        _npz_case(imgs=np.zeros((4, 64, 64), np.uint8), latents_classes=np.zeros((4, 5), np.int64)),
        "dSprites' 'imgs' must be 0/1 uint8 and 'latents_classes' have 6 columns, not uint8 and (4, 5)",
    ),
    (
        "data",
        "'images' of shape (N, 28)",
        _npz_case(images=np.zeros((4, 28))),
        "'images' must have shape (N, H, W) or (N, H, W, C)",
    ),
    ("data", "'images' with 2 channels", _npz_case(images=np.zeros((4, 28, 28, 2))), "'images' must have shape"),
    ("data", "'images' empty", _npz_case(images=np.zeros((0, 28, 28))), "'images' holds no images"),
    (
        "data",
        "'images' as int64",
        _npz_case(images=np.zeros((4, 28, 28), np.int64)),
        "'images' must be uint8 (0-255) or float (0-1)",
    ),
    (
        "data",
        "float 'images' in 0-255",
        _npz_case(images=np.full((4, 28, 28), 200.0)),
        "float 'images' must lie in [0, 1]",
    ),
    (
        "data",
        "'images' with NaN",
        _npz_case(images=np.full((4, 28, 28), np.nan)),
        "'images' contains NaN or infinite pixels",
    ),
    (
        "data",
        "'labels' of the wrong length",
        _npz_case(images=np.zeros((4, 28, 28)), labels=np.arange(3)),
        "'labels' must be 4 non-negative integers",
    ),
    (
        "data",
        "negative 'labels'",
        _npz_case(images=np.zeros((4, 28, 28)), labels=-np.ones(4, np.int64)),
        "'labels' must be 4 non-negative integers",
    ),
    (
        "data",
        "'factors' of shape (N,)",
        _npz_case(images=np.zeros((4, 28, 28)), factors=np.zeros(4)),
        "'factors' must be numbers of shape (4, F)",
    ),
    (
        "data",
        "'factors' with NaN",
        _npz_case(images=np.zeros((4, 28, 28)), factors=np.full((4, 2), np.nan)),
        "'factors' contains NaN or infinite",
    ),
    (
        "data",
        "--batch_size larger than the data",
        _npz_case(images=np.zeros((4, 28, 28))),
        "--batch_size=8 is larger than the 4 training images",
    ),
    (
        "data",
        "--dataset=folder without --data_path",
        lambda tmp: _train(tmp, "folder"),
        "--dataset=folder needs --data_path=DIR",
    ),
    (
        "data",
        "--data_path=a file for folder",
        lambda tmp: ((tmp / "f").write_text("x"), _train(tmp, "folder", data_path=str(tmp / "f"))),
        "is not a directory",
    ),
    (
        "data",
        "a folder without images",
        lambda tmp: _train(tmp, "folder", data_path=_folder(tmp, {"notes.txt": b"x"})),
        "holds no PNG or JPEG images",
    ),
    (
        "data",
        "a folder of unreadable images",
        lambda tmp: _train(tmp, "folder", data_path=_folder(tmp, {"a.png": b"no", "b.jpg": b"no"})),
        "none of its 2 image files could be read",
    ),
    (
        "data",
        "--dataset=faces without --data_path",
        lambda tmp: _train(tmp, "faces"),
        "--dataset=faces needs --data_path=DIR",
    ),
    (
        "data",
        "--dataset=chairs, not prepared, no --manual_dir",
        lambda tmp: _train(tmp, "chairs", data_dir=str(tmp / "tfds")),
        "--dataset=chairs is not prepared in",
    ),
    (
        "data",
        "--manual_dir=missing",
        lambda tmp: _train(tmp, "chairs", data_dir=str(tmp / "tfds"), manual_dir=str(tmp / "nope")),
        "nope does not exist: " + CHAIRS_DOWNLOAD,
    ),
    (
        "data",
        "--manual_dir=empty",
        lambda tmp: ((tmp / "e").mkdir(), _train(tmp, "chairs", data_dir=str(tmp / "tfds"), manual_dir=str(tmp / "e"))),
        "e is empty: " + CHAIRS_DOWNLOAD,
    ),
    (
        "data",
        "--manual_dir holding other files",
        lambda tmp: _train(tmp, "chairs", data_dir=str(tmp / "tfds"), manual_dir=_folder(tmp, {"chairs.zip": b"x"})),
        "holds neither rendered_chairs.tar nor its extracted rendered_chairs/ folder: " + CHAIRS_DOWNLOAD,
    ),
    (
        "data",
        "--manual_dir=the tar itself",
        lambda tmp: _train(
            tmp,
            "chairs",
            data_dir=str(tmp / "tfds"),
            manual_dir=_folder(tmp, {"rendered_chairs.tar": b"x"}) + "/rendered_chairs.tar",
        ),
        "is the tar itself: pass the folder holding it",
    ),
    (
        "data",
        "--manual_dir in the wrong layout",
        lambda tmp: _train(
            tmp, "chairs", data_dir=str(tmp / "tfds"), manual_dir=_folder(tmp, {"rendered_chairs/x/a.png": b"x"})
        ),
        "contains no renders named <model_hash>/renders/image_<NNN>_p<elev>_t<azim>_r<dist>.png: " + CHAIRS_DOWNLOAD,
    ),
    ("data", "--manual_dir holding a file that is not a tar", _not_a_tar, "rendered_chairs.tar"),
    ("data", "--manual_dir holding an empty tar", _empty_tar, "contains no renders"),
    (
        "data",
        "--dataset=fashion_mnist --download=false, not prepared",
        lambda tmp: _train(tmp, "fashion_mnist", data_dir=str(tmp / "tfds"), download=False),
        "'fashion_mnist' is not prepared in",
    ),
    (
        "recipes",
        "reproduce.py --recipe=fig1 --categorical=",
        _fig1_without_categorical,
        "--recipe=fig1 needs a categorical code",
    ),
    (
        "recipes",
        "reproduce.py --recipe=seeds --seeds=",
        lambda tmp: recipes.seeds(PRESETS["shapes"], [], str(tmp / "run")),
        "--seeds needs at least one seed",
    ),
    (
        "recipes",
        "reproduce.py --recipe=seeds --parallel=0",
        lambda tmp: recipes.seeds(PRESETS["shapes"], [0, 1], str(tmp / "run"), parallel=0),
        "--parallel=0 must be between 1 and",
    ),
]


@pytest.mark.parametrize("area, given, run, expected", CASES, ids=[case[1] for case in CASES])
def test_bad_input_is_one_clear_sentence_and_writes_nothing(tmp_path, area, given, run, expected):
    with pytest.raises(ConfigError) as caught:
        run(tmp_path)
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    assert message.rstrip().endswith((".", ")", "?")), message
    if area in ("workdir", "checkpoints"):  # those cases made their workdir on purpose: no training in it
        assert not (tmp_path / "run" / "metrics.jsonl").exists()
    else:
        assert not (tmp_path / "run").exists(), sorted(p.name for p in tmp_path.rglob("*"))


def table() -> str:
    """The Markdown table of BUILD_NOTES.md: every case run for real, its message verbatim."""
    import tempfile

    rows = ["| area | input | what the user sees (`error: ...`, exit status 1) |", "|---|---|---|"]
    for area, given, run, _ in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run(pathlib.Path(tmp))
                message = "(no error)"
            except ConfigError as error:
                message = str(error).replace(tmp, "$TMP")
        rows.append(f"| {area} | `{given}` | {message.replace('|', '/')} |")
    return "\n".join(rows)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(table())

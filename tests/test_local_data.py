"""--dataset=npz and --dataset=folder: happy paths, the architecture picked from the image size, bad inputs."""

import dataclasses
import json
import logging

import numpy as np
import pytest
from PIL import Image

from infogan_tf import config as config_lib
from infogan_tf import datasets, evaluate, export, local_data
from infogan_tf.config import PRESETS, ConfigError
from infogan_tf.latent import LatentSpec
from infogan_tf.train import train_and_evaluate


def _npz(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def _config(dataset, path, **overrides):
    # jit_compile=False: XLA's compile time buys nothing in these few-step runs.
    return dataclasses.replace(PRESETS[dataset], data_path=path, jit_compile=False, **overrides)


@pytest.mark.parametrize(
    "images, shape, architecture",
    [
        (np.zeros((20, 28, 28), np.uint8), (28, 28, 1), "mnist"),
        (np.full((20, 32, 32, 3), 0.5, np.float32), (32, 32, 3), "svhn"),
        (np.zeros((20, 40, 40, 1), np.uint8), (32, 32, 1), "svhn"),  # nearest size: 32
        (np.zeros((20, 64, 80), np.uint8), (64, 64, 1), "dcgan64"),  # central square of a 64x80 image
    ],
)
def test_npz_picks_the_architecture_from_the_image_size(tmp_path, images, shape, architecture):
    path = _npz(tmp_path, images=images, labels=np.arange(20))
    config = datasets.get("npz").adapt_config(_config("npz", path, batch_size=8))
    assert config.image_shape == shape and config.architecture == architecture
    batch = next(iter(datasets.get(config.dataset).train_dataset(config))).numpy()
    assert batch.shape == (8, *shape) and 0 <= batch.min() and batch.max() <= 1
    images, labels = datasets.get(config.dataset).labelled_eval_set(config, 10)
    # 10 of the 20 drawn uniformly, in file order: not the first 10 (a file sorted by label, as
    # dSprites', would give one label).
    assert images.shape == (10, *shape) and list(labels) == sorted(set(labels.tolist())) and labels.max() >= 10


def test_npz_float_pixels_keep_their_values(tmp_path):
    images = np.linspace(0, 1, 8 * 28 * 28, dtype=np.float32).reshape(8, 28, 28)
    loaded, labels, factors = local_data.load_npz(_npz(tmp_path, images=images, factors=np.ones((8, 3))))
    np.testing.assert_array_equal(loaded[..., 0], np.round(images * 255).astype(np.uint8))
    assert labels is None and factors.shape == (8, 3)


def _write_image(path, mode, size=(64, 64), value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 20, 200)).save(path)


def test_folder_with_class_subfolders_gives_labels_and_trains(tmp_path, caplog):
    root = tmp_path / "images"
    for i in range(6):
        _write_image(root / "cats" / f"{i}.png", "RGB")
    for i in range(4):  # fewer dogs, another colour: a Q blind to the images scores 6/10, not 1/2
        _write_image(root / "dogs" / "deeper" / f"{i}.jpg", "RGB", size=(80, 64), value=40)
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "notes.txt").write_text("ignored")  # not an image: not a label either
    with caplog.at_level(logging.WARNING):
        images, labels, classes = local_data.load_folder(str(root))
    assert images.shape == (10, 64, 64, 3) and classes == ["cats", "dogs"]
    assert sorted(labels) == [0] * 6 + [1] * 4
    assert "broken.png" in caplog.text

    workdir = tmp_path / "run"
    config = _config("folder", str(root), steps=2, batch_size=4, log_every=1, eval_every=2, sample_every=2)
    result = train_and_evaluate(config, str(workdir))
    stored = json.loads((workdir / "config.json").read_text())
    assert stored["architecture"] == "dcgan64" and stored["image_shape"] == [64, 64, 3]
    # The accuracy is that of the last checkpoint's Q on the folder's 10 labelled images. The images of
    # a class are identical, so Q gives each class one value: the best matching is right on all 10 when
    # the two values differ, on the 6 cats alone when they are the same.
    _, _, discriminator, _ = export.restore(str(workdir))
    config = datasets.get(config.dataset).adapt_config(config)
    images, labels = datasets.get(config.dataset).labelled_eval_set(config, config.labelled_eval_samples)
    assert images.shape == (10, 64, 64, 3) and sorted(labels) == [0] * 6 + [1] * 4
    predictions = np.argmax(discriminator(images, training=False)["cat_logits"], axis=1)
    per_class = [set(predictions[labels == label].tolist()) for label in (0, 1)]
    assert [len(values) for values in per_class] == [1, 1], per_class
    expected = 1.0 if per_class[0] != per_class[1] else 0.6
    evaluation = json.loads((workdir / "eval.json").read_text())
    assert result["eval/categorical_accuracy"] == evaluation["categorical_accuracy"] == expected


def test_grayscale_folder_without_subfolders_has_no_labels(tmp_path):
    for i in range(3):
        _write_image(tmp_path / f"{i}.png", "L", size=(31, 31))
    images, labels, classes = local_data.load_folder(str(tmp_path))
    assert images.shape == (3, 31, 31, 1) and labels is None and classes is None
    config = datasets.get("folder").adapt_config(_config("folder", str(tmp_path)))
    assert config.image_shape == (32, 32, 1) and datasets.get(config.dataset).labelled_eval_set(config, 3) is None


def test_folder_images_with_transparency_are_composited_on_white(tmp_path):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0], rgba[:4, :4, 3] = 200, 255  # red, opaque only in one corner
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    gray = np.zeros((16, 16, 2), np.uint8)
    gray[:4, :4, 1] = 255  # black, opaque only in one corner
    Image.fromarray(gray, "LA").save(tmp_path / "b.png")
    images = local_data.load_folder(str(tmp_path))[0]
    assert images.shape == (2, 16, 16, 3)  # one colour image makes the folder colour
    assert (images[0, :4, :4] == [200, 0, 0]).all() and (images[0, 4:, 4:] == 255).all()
    assert (images[1, :4, :4] == 0).all() and (images[1, 4:, 4:] == 255).all()
    (tmp_path / "a.png").unlink()
    assert local_data.load_folder(str(tmp_path))[0].shape == (1, 16, 16, 1)  # LA alone is grayscale


N = 6
BAD_NPZ = {
    "no images array": (
        {"pixels": np.zeros((N, 28, 28))},
        r"has no 'images' array, nor dSprites' 'imgs' and 'latents_classes' \(it has: pixels\)",
    ),
    "wrong rank": ({"images": np.zeros((N, 28))}, r"'images' must have shape \(N, H, W\)"),
    "two channels": ({"images": np.zeros((N, 28, 28, 2), np.uint8)}, r"with C 1 or 3, not \(6, 28, 28, 2\)"),
    "int32 pixels": ({"images": np.zeros((N, 28, 28), np.int32)}, r"or float \(0-1\), not int32"),
    "float out of range": ({"images": np.full((N, 28, 28), 255.0)}, r"must lie in \[0, 1\], found \[255, 255\]"),
    "NaN pixels": ({"images": np.full((N, 28, 28), np.nan)}, "contains NaN or infinite pixels"),
    "no images": ({"images": np.zeros((0, 28, 28), np.uint8)}, "holds no images"),
    "labels too short": (
        {"images": np.zeros((N, 28, 28), np.uint8), "labels": np.zeros(N - 1, int)},
        r"'labels' must be 6 non-negative integers",
    ),
    "float labels": ({"images": np.zeros((N, 28, 28), np.uint8), "labels": np.zeros(N)}, "not float64"),
    "negative labels": ({"images": np.zeros((N, 28, 28), np.uint8), "labels": -np.ones(N, int)}, "non-negative"),
    "factors wrong length": (
        {"images": np.zeros((N, 28, 28), np.uint8), "factors": np.zeros((N + 1, 2))},
        r"'factors' must be numbers of shape \(6, F\)",
    ),
    "NaN factors": ({"images": np.zeros((N, 28, 28), np.uint8), "factors": np.full((N, 2), np.nan)}, "NaN"),
}


@pytest.mark.parametrize("case", sorted(BAD_NPZ))
def test_bad_npz_files_are_one_line_errors_naming_the_file(tmp_path, case):
    arrays, message = BAD_NPZ[case]
    path = _npz(tmp_path, **arrays)
    with pytest.raises(ConfigError, match=message) as error:
        local_data.load_npz(path)
    assert path in str(error.value) and "\n" not in str(error.value)


def test_bad_data_paths_are_one_line_errors(tmp_path):
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file")
    (tmp_path / "empty").mkdir()
    (tmp_path / "unreadable").mkdir()
    (tmp_path / "unreadable" / "a.png").write_bytes(b"no image here")
    cases = [
        (lambda: local_data.load_npz(None), "--dataset=npz needs --data_path=FILE.npz"),
        (lambda: local_data.load_npz(str(tmp_path / "missing.npz")), "missing.npz does not exist"),
        (lambda: local_data.load_npz(str(tmp_path / "garbage.npz")), "garbage.npz is not a readable .npz file"),
        (lambda: local_data.load_folder(None), "--dataset=folder needs --data_path=DIR"),
        (lambda: local_data.load_folder(str(tmp_path / "missing")), "missing is not a directory"),
        (lambda: local_data.load_folder(str(tmp_path / "empty")), "empty holds no PNG or JPEG images"),
        (lambda: local_data.load_folder(str(tmp_path / "unreadable")), "none of its 1 image files could be read"),
    ]
    for call, message in cases:
        with pytest.raises(ConfigError, match=message) as error:
            call()
        assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match=r"--batch_size=64 is larger than the 6 training images"):
        path = _npz(tmp_path, name="six.npz", images=np.zeros((6, 28, 28), np.uint8))
        datasets.get("npz").train_dataset(datasets.get("npz").adapt_config(_config("npz", path)))


def test_faces_folder_keeps_its_preset_shape(tmp_path):
    for i in range(4):
        _write_image(tmp_path / "face_a" / f"{i}.png", "RGB", size=(150, 150))
    config = datasets.get("faces").adapt_config(_config("faces", str(tmp_path), batch_size=4))
    assert config.image_shape == (64, 64, 1) and config.architecture == "chairs"
    assert config.categorical == () and config.continuous == 5
    assert next(iter(datasets.get(config.dataset).train_dataset(config))).shape == (4, 64, 64, 1)
    with pytest.raises(ConfigError, match="--dataset=faces needs --data_path=DIR"):
        datasets.get("faces").train_dataset(_config("faces", None))


@pytest.mark.parametrize("size, architecture", [(28, "mnist"), (32, "svhn"), (64, "dcgan64")])
def test_image_size_is_a_choice_for_npz_and_folder(tmp_path, size, architecture):
    # CelebA-sized colour photos (109 high, 89 wide): without --image_size their side takes them to 64, the
    # nearest; with it, to any of the three sides the networks are built for.
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(8):
        Image.fromarray(rng.integers(0, 256, (109, 89, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    assert datasets.get("folder").adapt_config(_config("folder", str(folder))).image_shape == (64, 64, 3)
    config = datasets.get("folder").adapt_config(_config("folder", str(folder), image_size=size, batch_size=4))
    assert config.image_shape == (size, size, 3) and config.architecture == architecture
    assert next(iter(datasets.get("folder").train_dataset(config))).shape == (4, size, size, 3)
    path = _npz(tmp_path, images=np.zeros((8, 28, 28), np.uint8))
    config = datasets.get("npz").adapt_config(_config("npz", path, image_size=size))
    assert config.image_shape == (size, size, 1) and config.architecture == architecture


def test_heldout_path_scores_the_categorical_code_on_held_out_images(tmp_path):
    rng = np.random.default_rng(0)
    train = _npz(tmp_path, images=rng.integers(0, 256, (40, 28, 28), np.uint8), labels=rng.integers(0, 10, 40))
    # Held out: 24 other images at another size (resized to the training images' 28x28, as training's are).
    heldout = _npz(
        tmp_path, "heldout.npz", images=rng.integers(0, 256, (24, 32, 32), np.uint8), labels=rng.integers(0, 10, 24)
    )
    workdir = tmp_path / "run"
    config = _config("npz", train, heldout_path=heldout, noise_dim=8, batch_size=8, steps=2, log_every=1, eval_every=2)
    result = train_and_evaluate(config, str(workdir))
    evaluation = json.loads((workdir / "eval.json").read_text())
    assert evaluation["categorical_heldout"] == 1.0
    assert json.loads((workdir / "config.json").read_text())["heldout_path"] == heldout
    # What the last checkpoint's Q scores on the 24 held-out images, its mapping fitted on the 40 training ones.
    _, _, discriminator, _ = export.restore(str(workdir))
    config = datasets.get("npz").adapt_config(config)
    with np.load(heldout) as held, np.load(train) as seen:
        images = datasets.get("npz").arrays(config, "--heldout_path")[0].astype(np.float32) / 255.0
        assert images.shape == (24, 28, 28, 1)
        fit = (seen["images"][..., None].astype(np.float32) / 255.0, seen["labels"])
        expected = evaluate.categorical_scores(
            discriminator, LatentSpec.from_config(config), images, held["labels"], fit
        )
    for name in ("categorical_accuracy", "categorical_majority_accuracy", "categorical_nmi"):
        assert evaluation[name] == pytest.approx(expected[name], abs=1e-12), name
    assert result["eval/categorical_accuracy"] == evaluation["categorical_accuracy"]
    # Without --heldout_path the same run scores the training images, and says so.
    plain = tmp_path / "plain"
    train_and_evaluate(dataclasses.replace(config, heldout_path=None, image_shape=(28, 28, 1)), str(plain))
    assert json.loads((plain / "eval.json").read_text())["categorical_heldout"] == 0.0


def test_bad_heldout_paths_are_one_line_errors(tmp_path):
    rng = np.random.default_rng(0)
    train = _npz(tmp_path, images=rng.integers(0, 256, (16, 28, 28), np.uint8), labels=np.arange(16) % 4)
    unlabelled = _npz(tmp_path, "unlabelled.npz", images=np.zeros((4, 28, 28), np.uint8))
    for name in ("cats", "dogs"):
        _write_image(tmp_path / "train" / name / "0.png", "L", size=(28, 28))
    _write_image(tmp_path / "other" / "cats" / "0.png", "L", size=(28, 28))
    _write_image(tmp_path / "other" / "birds" / "0.png", "L", size=(28, 28))

    def scored(dataset, data_path, heldout_path):
        config = datasets.get(dataset).adapt_config(_config(dataset, data_path, heldout_path=heldout_path))
        return datasets.get(dataset).labelled_eval_set(config, 10)

    cases = [
        (lambda: scored("npz", train, str(tmp_path / "missing.npz")), "--heldout_path=.*missing.npz does not exist"),
        (lambda: scored("npz", train, unlabelled), "--heldout_path=.*unlabelled.npz has no labels"),
        (
            lambda: scored("folder", str(tmp_path / "train"), str(tmp_path / "other")),
            "--heldout_path=.*other has the label subfolders birds, cats, --data_path=.*train cats, dogs",
        ),
        (
            lambda: config_lib.resolve("digits", {"heldout_path": train}),
            "--heldout_path sets held-out labelled images for --dataset=npz or folder; --dataset=digits",
        ),
        (
            lambda: config_lib.resolve("npz", {"labelled_eval_samples": 0}),
            "--labelled_eval_samples=0 must be a positive number of images",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ConfigError, match=message) as error:
            call()
        assert "\n" not in str(error.value)
    # A folder held out with the training folder's label subfolders is scored.
    _write_image(tmp_path / "same" / "cats" / "1.png", "L", size=(28, 28))
    _write_image(tmp_path / "same" / "dogs" / "1.png", "L", size=(28, 28))
    images, labels = scored("folder", str(tmp_path / "train"), str(tmp_path / "same"))
    assert images.shape == (2, 28, 28, 1) and list(labels) == [0, 1]

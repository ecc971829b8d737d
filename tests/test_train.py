"""The training loop: mirrored == single device, per-replica RNG, the workdir, resume and the CLI."""

from __future__ import annotations

import dataclasses
import glob
import itertools
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import config as config_lib
from infogan_tf import datasets, evaluate, export, performance
from infogan_tf.gan import InfoGAN
from infogan_tf.regularisers import contrastive, elastic
from infogan_tf.train import summary_line, train_and_evaluate

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "helpers"))
from same_update import assert_same_update  # noqa: E402

DEVICES = ["/cpu:0", "/cpu:1"]


def _replica_values(variable) -> list[np.ndarray]:
    """The per-replica copies of a (Keras-wrapped) MirroredVariable."""
    return [v.numpy() for v in variable.value.values]


def _linear_adam(model: InfoGAN) -> None:
    # Adam's first step is lr * g / (|g| + eps) ~ lr * sign(g): blind to the scale of the gradient
    # (a loss averaged per replica instead of over the global batch looks the same) and it blows up
    # float rounding of near-zero gradients. eps = 1 makes the step ~ lr * g, so the comparison
    # below sees the gradients themselves.
    for optimizer in (model.g_optimizer, model.d_optimizer, model.regularisers[0].optimizer):
        optimizer.epsilon = 1.0


def test_mirrored_step_equals_single_device_step(mnist_config, copy_weights):
    assert len(tf.config.list_logical_devices("CPU")) == 2, "conftest.py splits the host CPU"
    # With InfoGAN-CR's regulariser and spectral normalisation, whose classifier and power
    # iterations must also stay in step across replicas, and the categorical consistency term, whose
    # per-replica shares of (image, augmented copy) pairs must add up to the global batch's.
    config = dataclasses.replace(mnist_config, batch_size=8, cr_weight=1.0, spectral_norm=True, consistency_weight=1.0)
    mirrored = tf.distribute.MirroredStrategy(DEVICES)
    distributed = InfoGAN(config, mirrored)
    single = InfoGAN(config, tf.distribute.get_strategy())
    assert mirrored.num_replicas_in_sync == 2
    # Synchronised BN (normalising over the global batch) is what makes two replicas compute what
    # one device computes.
    assert distributed.generator.bn1.synchronized and not single.generator.bn1.synchronized
    copy_weights(distributed.generator, single.generator)
    copy_weights(distributed.discriminator, single.discriminator)
    copy_weights(distributed.regularisers[0].classifier, single.regularisers[0].classifier)
    for model in (distributed, single):
        _linear_adam(model)
    initial = {v.path: v.numpy() for v in single.variables}

    images = tf.random.stateless_uniform([8, *config.image_shape], [3, 4])
    images = (images, elastic.Augmentation(20.0)(images, tf.constant([5, 6], tf.int64)))
    rng = tf.random.Generator.from_seed(11)
    latent, pairs = single.spec.sample(rng, 8), {"contrastive": contrastive.sample_pairs(single.spec, rng, 8)}
    dataset = tf.data.Dataset.from_tensor_slices((images, latent, pairs)).batch(8)
    per_replica_inputs = next(iter(mirrored.experimental_distribute_dataset(dataset)))
    assert [v.shape[0] for v in per_replica_inputs[0][1].values] == [4, 4]

    def step(model):
        return lambda images, latent, pairs: model.replica_step(images, latent, {**pairs, "consistency": None})

    @tf.function
    def mirrored_step(inputs):
        return mirrored.run(step(distributed), args=inputs)

    per_replica_metrics = mirrored_step(per_replica_inputs)
    single_metrics = tf.function(step(single))(images, latent, pairs)
    assert {"cr_loss", "cr_accuracy", "consistency_loss"} <= set(single_metrics)

    for name, value in single_metrics.items():
        total = mirrored.reduce(tf.distribute.ReduceOp.SUM, per_replica_metrics[name], axis=None)
        np.testing.assert_allclose(float(total), float(value), rtol=1e-5, atol=1e-6, err_msg=name)

    pairs = list(zip(distributed.variables, single.variables, strict=True))
    assert any("vector_u" in v.path for v, _ in pairs) and any(v.path.startswith("cr_") for v, _ in pairs)
    largest_update = 0.0
    for dist_var, single_var in pairs:
        assert dist_var.path == single_var.path
        replicas = _replica_values(dist_var)
        assert len(replicas) == 2
        np.testing.assert_array_equal(replicas[0], replicas[1], err_msg=f"{dist_var.path} differs between replicas")
        update = assert_same_update(
            dist_var.path, dist_var.trainable, replicas[0], single_var.numpy(), initial[single_var.path]
        )
        largest_update = max(largest_update, update)
    # The comparison above is meaningful only if the step moved the weights.
    assert largest_update > 1e-5
    moving = [v for v in distributed.discriminator.non_trainable_variables if "moving_mean" in v.path]
    assert moving and any(np.any(_replica_values(v)[0] != initial[v.path]) for v in moving)


def test_per_replica_latents_are_independent_streams(mnist_config):
    mirrored = tf.distribute.MirroredStrategy(DEVICES)
    model = InfoGAN(mnist_config, mirrored)

    @tf.function
    def sample():
        return mirrored.run(lambda: model.spec.sample(model.rng, 4))

    latent = sample()
    z0, z1 = (v.numpy() for v in latent["z"].values)
    assert z0.shape == z1.shape == (4, mnist_config.noise_dim)
    assert not np.allclose(z0, z1)
    c0, c1 = (v.numpy() for v in latent["continuous"].values)
    assert not np.allclose(c0, c1)
    # The stream advances: a second draw on a replica differs from its first.
    assert not np.allclose(sample()["z"].values[0].numpy(), z0)


def _read_metrics(workdir) -> list[dict]:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def _latest_png(workdir, code: str) -> str:
    paths = sorted(
        p for p in glob.glob(os.path.join(workdir, "samples", "*.png")) if re.match(rf"{code}\D", os.path.basename(p))
    )
    assert paths, f"no traversal PNG for {code}"
    return paths[-1]


def _event_tags(workdir) -> set[str]:
    tags = set()
    for path in glob.glob(os.path.join(workdir, "tensorboard", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def _matched_accuracy_by_enumeration(predictions: np.ndarray, labels: np.ndarray) -> float:
    """The best one-to-one matching of predicted values to labels, by trying every matching (small K
    only): an independent check of the Hungarian algorithm in evaluate.matched_accuracy."""
    values, classes = sorted(set(predictions.tolist())), sorted(set(labels.tolist()))
    options = values + [None] * len(classes)  # a class may be matched to no predicted value
    best = 0
    for chosen in itertools.permutations(options, len(classes)):
        pairs = [(c, v) for c, v in zip(classes, chosen, strict=True) if v is not None]
        best = max(best, sum(int(np.sum((labels == c) & (predictions == v))) for c, v in pairs))
    return best / len(labels)


def _mig_by_counts(codes: np.ndarray, factors: np.ndarray) -> float:
    """MIG from joint counts (natural logs), written out here rather than through scikit-learn."""

    def entropy(x):
        p = np.unique(x, return_counts=True)[1] / len(x)
        return float(-(p * np.log(p)).sum())

    def information(x, y):
        return entropy(x) + entropy(y) - entropy(x * (y.max() + 1) + y)

    binned = evaluate.discretize(codes)
    gaps = []
    for j in range(factors.shape[1]):
        if entropy(factors[:, j]) > 0:
            top = sorted((information(factors[:, j], binned[:, i]) for i in range(codes.shape[1])), reverse=True)
            gaps.append((top[0] - top[1]) / entropy(factors[:, j]))
    return float(np.mean(gaps))


def _check_eval_against_checkpoint(workdir: str, stored: config_lib.Config, evaluation: dict) -> None:
    """eval.json's categorical accuracy, MIG and FactorVAE are those of the checkpoint written at the
    same step, on the labelled and factor sets of the data, recomputed here from Q's outputs."""
    _, _, discriminator, path = export.restore(workdir)
    assert path.endswith(f"-{evaluation['step']}")
    images, labels = datasets.get(stored.dataset).labelled_eval_set(stored, stored.labelled_eval_samples)
    assert images.shape == (stored.labelled_eval_samples, 64, 64, 1) and len(set(labels.tolist())) == 3
    q = discriminator(tf.constant(images), training=False)
    predictions = np.argmax(q["cat_logits"].numpy(), axis=1)
    accuracy = _matched_accuracy_by_enumeration(predictions, labels)
    assert evaluation["categorical_accuracy"] == evaluation["categorical_accuracy/cat0"] == pytest.approx(accuracy)

    images, factors = datasets.get(stored.dataset).factor_eval_set(stored, stored.factor_eval_samples)
    assert factors.shape == (stored.factor_eval_samples, 5)
    q = discriminator(tf.constant(images), training=False)
    codes = np.concatenate([np.argmax(q["cat_logits"].numpy(), axis=1)[:, None], q["cont_mean"].numpy()], axis=1)
    # Q reads each image: a Q that ignored its input would give every image the same code vector.
    assert np.all(codes[:, 1:].std(axis=0) > 1e-4)
    assert evaluation["mig"] == pytest.approx(_mig_by_counts(codes, factors), abs=1e-9)
    # FactorVAE's votes draw examples with the run's seed: the same draws give the same score.
    assert evaluation["factor_vae"] == evaluate.factor_vae(codes, factors, np.random.default_rng(stored.seed))


def test_train_and_evaluate_writes_the_workdir_and_resumes(shapes_config, tmp_path):
    workdir = str(tmp_path / "w")
    config = shapes_config
    result = train_and_evaluate(config, workdir)

    # config.json records what ran: --mixed_precision=auto resolved for this CPU.
    assert config.mixed_precision == "auto"
    stored = config_lib.Config.from_json((tmp_path / "w" / "config.json").read_text())
    assert stored.mixed_precision == "none"  # float32 until bf16 is shown to learn
    assert stored == performance.resolve(config, tf.distribute.get_strategy())
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("-4")

    rows = _read_metrics(workdir)
    assert [row["step"] for row in rows] == [2, 4]
    codes = ["cat0", "cont0", "cont1", "cont2", "cont3"]
    expected_keys = {"step", "d_loss", "g_loss", "info_lb", "images_per_sec", "elapsed_s"}
    expected_keys |= {"sample_diversity", "real_diversity", "diversity_ratio"}
    expected_keys |= {f"info_lb/{c}" for c in codes} | {f"entropy/{c}" for c in codes}
    for row in rows:
        assert set(row) == expected_keys
        assert all(math.isfinite(v) for v in row.values())
        assert row["entropy/cat0"] == pytest.approx(math.log(3))
        assert all(row[f"entropy/cont{j}"] == pytest.approx(math.log(2)) for j in range(4))
        assert row["info_lb"] == pytest.approx(sum(row[f"info_lb/{c}"] for c in codes), rel=1e-5)
        assert row["images_per_sec"] > 0 and row["elapsed_s"] > 0

    rows_px = 8 * (64 + 1) + 1  # TRAVERSAL_ROWS fixed-noise rows of 64 px with 1 px borders.
    for code, cols in [("cat0", 3)] + [(f"cont{j}", 9) for j in range(4)]:
        png = tf.io.decode_png(tf.io.read_file(_latest_png(workdir, code)))
        assert png.shape == (rows_px, cols * (64 + 1) + 1, 1), code

    tags = _event_tags(workdir)
    assert {"d_loss", "g_loss", "info_lb", "traversal/cat0", "traversal/cont3"} <= tags

    with open(os.path.join(workdir, "eval.json")) as f:
        evaluation = json.load(f)
    assert evaluation["step"] == 4
    assert {"info_lb"} | {f"info_lb/{c}" for c in codes} <= set(evaluation)
    assert evaluation["info_lb"] == pytest.approx(sum(evaluation[f"info_lb/{c}"] for c in codes), rel=1e-5)
    assert {f"code_effect/{c}" for c in codes + ["z"]} <= set(evaluation)
    _check_eval_against_checkpoint(workdir, stored, evaluation)
    assert result["eval/info_lb"] == pytest.approx(evaluation["info_lb"])

    # Resume with more steps: steps 2 and 4 are kept as written, 6 is appended.
    train_and_evaluate(dataclasses.replace(config, steps=6), workdir)
    resumed = _read_metrics(workdir)
    steps = [row["step"] for row in resumed]
    assert steps == sorted(set(steps)) and steps[-1] == 6
    assert steps == [2, 4, 6]
    assert resumed[:2] == rows
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("-6")
    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f)["step"] == 6

    # A different latent spec cannot load these checkpoints: refused before anything is touched.
    config_json = (tmp_path / "w" / "config.json").read_text()
    with pytest.raises(config_lib.ConfigError, match="config.json"):
        train_and_evaluate(dataclasses.replace(config, steps=8, categorical=(4,)), workdir)
    assert (tmp_path / "w" / "config.json").read_text() == config_json
    assert [row["step"] for row in _read_metrics(workdir)] == [2, 4, 6]


def test_keep_best_keeps_the_best_evaluation_out_of_the_rotation_and_across_a_resume(
    shapes_config, tmp_path, monkeypatch
):
    # L_I as scripted per evaluation (the real evaluation runs; only its total is replaced). The best is
    # step 1: not a --checkpoint_every=2 step, rotated out of checkpoints/ (the latest 3), and not beaten
    # after the resume.
    scripted = iter([0.5, 0.1, 0.2, 0.3, 0.4])
    real_info_bound = evaluate.info_bound
    monkeypatch.setattr(evaluate, "info_bound", lambda *a, **k: {**real_info_bound(*a, **k), "info_lb": next(scripted)})
    workdir = str(tmp_path / "w")
    config = dataclasses.replace(
        shapes_config, steps=3, keep_best="info_lb", eval_every=1, checkpoint_every=2, sample_every=3
    )
    train_and_evaluate(config, workdir)
    train_and_evaluate(dataclasses.replace(config, steps=5), workdir)
    assert next(scripted, None) is None  # one evaluation per step

    checkpoints = os.path.join(workdir, "checkpoints")
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(checkpoints, "ckpt-*.index"))) == [
        "ckpt-3.index",
        "ckpt-4.index",
        "ckpt-5.index",
    ]
    best_dir = os.path.join(checkpoints, "best")
    with open(os.path.join(best_dir, "best.json")) as f:
        record = json.load(f)
    assert (record["keep_best"], record["step"], record["info_lb"]) == ("info_lb", 1, 0.5)
    assert "mig" in record and "info_lb/cat0" in record  # the whole evaluation of that step
    kept = os.path.join(best_dir, "ckpt-1")
    assert tf.train.latest_checkpoint(best_dir) == kept
    assert {os.path.basename(p) for p in glob.glob(os.path.join(best_dir, "ckpt-*"))} == {
        "ckpt-1.index",
        "ckpt-1.data-00000-of-00001",
    }
    assert tf.train.load_variable(kept, "step/.ATTRIBUTES/VARIABLE_VALUE") == 1
    # export.py takes it as --checkpoint; its weights are step 1's, not the latest's.
    _, best_generator, _, path = export.restore(workdir, kept)
    _, latest_generator, _, latest = export.restore(workdir)
    assert path == kept and latest.endswith("ckpt-5")
    assert not np.array_equal(best_generator.weights[0].numpy(), latest_generator.weights[0].numpy())


def test_xla_step_trains(mnist_config):
    config = dataclasses.replace(mnist_config, batch_size=8, jit_compile=True)
    model = InfoGAN(config, tf.distribute.get_strategy())
    before = [v.numpy().copy() for v in model.generator.trainable_variables]
    images = tf.data.Dataset.from_tensors(tf.random.stateless_uniform([8, *config.image_shape], [1, 2])).repeat()
    metrics, done = model.train_steps(iter(images), 2)
    assert done == 2 and all(math.isfinite(float(v)) for v in metrics.values())
    assert int(model.g_optimizer.iterations) == 2
    assert any(
        not np.array_equal(a, b.numpy()) for a, b in zip(before, model.generator.trainable_variables, strict=True)
    )


@pytest.mark.parametrize(
    "overrides, flag",
    [
        ({"strategy": "mirrored", "logical_cpus": 2, "jit_compile": True}, "--jit_compile"),
        ({"strategy": "mirrored", "logical_cpus": 2, "batch_size": 7}, "--batch_size"),
        ({"strategy": "multi_worker"}, "--strategy=multi_worker"),
        ({"strategy": "mirrored", "logical_cpus": 2, "elastic_weight": 10.0}, "--elastic_weight runs on one replica"),
    ],
)
def test_unsupported_distribution_options_fail_before_writing(shapes_config, tmp_path, overrides, flag):
    workdir = tmp_path / "never"
    with pytest.raises(config_lib.ConfigError, match=re.escape(flag)):
        train_and_evaluate(dataclasses.replace(shapes_config, **overrides), str(workdir))
    assert not workdir.exists()


def _run_cli(*flags: str, timeout: float = 300, script: str = "train.py") -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, script, *flags], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_cli_mirrored_training_checkpoints_and_resumes(tmp_path):
    # The whole loop under MirroredStrategy on two logical CPUs: the data iterator, the per-replica
    # RNG and synchronised BN go into the checkpoint and come back on resume. In a subprocess:
    # TensorFlow numbers collectives per MirroredStrategy from the same start, so a second
    # strategy in one process (the mirrored-step test above) would pair up the wrong tensors.
    workdir = tmp_path / "m"
    flags = ("--batch_size=8", "--log_every=1", "--sample_every=2", "--checkpoint_every=2", "--eval_every=2")
    flags += ("--eval_samples=16",)
    flags += ("--strategy=mirrored", "--logical_cpus=2", "--jit_compile=false", f"--workdir={workdir}")
    flags += ("--noise_dim=4", "--continuous=1")
    first = _run_cli("--steps=2", *flags)
    assert first.returncode == 0, first.stderr[-3000:]
    # Only the flags given override the preset, and they reach config.json.
    stored = config_lib.Config.from_json((workdir / "config.json").read_text())
    assert (stored.steps, stored.batch_size, stored.noise_dim, stored.continuous) == (2, 8, 4, 1)
    assert stored.jit_compile is False and stored.dataset == "digits" and stored.categorical == (10,)
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(workdir / "checkpoints")))
    keys = reader.get_variable_to_shape_map()
    assert any(key.startswith("data_iterator") for key in keys) and any(key.startswith("rng") for key in keys)
    second = _run_cli("--steps=3", *flags)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resumed from" in second.stderr and "at step 2" in second.stderr
    rows = _read_metrics(workdir)
    assert [row["step"] for row in rows] == [1, 2, 3]


@pytest.mark.parametrize(
    "script, flags, flag_name",
    [
        ("train.py", ["--categorical=abc"], "--categorical"),
        ("train.py", ["--dataset=nope"], "--dataset"),
        (
            "reproduce.py",
            ["--recipe=fig1", "--categorical=", "--consistency_weight=0"],
            "--recipe=fig1 needs a categorical code",
        ),
    ],
)
def test_cli_reports_user_errors_in_one_line_without_traceback(tmp_path, script, flags, flag_name):
    proc = _run_cli(*flags, f"--workdir={tmp_path / 'bad'}", timeout=120, script=script)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and flag_name in error_lines[0], proc.stderr[-2000:]


def test_summary_line_names_every_code_the_accuracy_the_best_continuous_codes_and_what_to_do_next():
    results = {
        "step": 2000,
        "info_lb/cat0": 2.3011,
        "info_lb/cont0": -0.25,
        "categorical_accuracy": 0.9123,
        "categorical_majority_accuracy": 0.9351,
        "categorical_nmi": 0.8456,
        "categorical_heldout": 1.0,
        "spearman_slant/cont0": 0.41,
        "spearman_slant/cont1": -0.87,
        "spearman_width/cont0": 0.66,
        "spearman_width/cont1": 0.12,
    }
    entropies = {"cat0": 2.302585, "cont0": 0.693147}
    line = summary_line(results, entropies, "runs/digits")
    assert line == (
        "Done at step 2000: L_I/H(c) cat0 2.301/2.303 cont0 -0.250/0.693 | categorical accuracy 0.912 on held-out "
        "images (majority vote 0.935, NMI 0.846) | "
        "slant follows cont1 (Spearman -0.87) | width follows cont0 (Spearman +0.66) | "
        "figures in runs/digits/figures/; export with: python export.py --workdir=runs/digits"
    )

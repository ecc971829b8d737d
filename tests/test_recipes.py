"""The figures a run writes, the real-digits dataset and the reproduction recipes (tiny runs)."""

import dataclasses
import json
import math
import os
import pathlib
import shutil
import signal
import threading
import time

import numpy as np
import pytest
from conftest import TINY_RUN
from PIL import Image

from infogan_tf import config as config_lib
from infogan_tf import datasets, evaluate, export, figures, local_data, recipes
from infogan_tf.latent import LatentSpec
from infogan_tf.train import train_and_evaluate

TINY = {**TINY_RUN, "eval_samples": 64, "labelled_eval_samples": 64, "factor_eval_samples": 256}


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), np.float32)


def test_digits_are_scikit_learns_real_digits_laid_out_like_mnist():
    images, labels, factors = local_data.load_digits()
    assert images.shape == (1797, 28, 28, 1) and images.dtype == np.uint8 and factors is None
    np.testing.assert_array_equal(np.bincount(labels), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # MNIST's layout: ink (bright) in a 20x20 box centred in a black 28x28 frame.
    assert images[:, :4].max() == 0 and images[:, 24:].max() == 0 and images[:, :, :4].max() == 0
    assert images.max() == 255 and 20 < images.mean() < 60
    config = config_lib.PRESETS["digits"]
    assert (config.architecture, config.image_shape, config.categorical) == ("mnist", (28, 28, 1), (10,))
    eval_images, eval_labels = datasets.get(config.dataset).labelled_eval_set(config, config.labelled_eval_samples)
    assert len(eval_images) == 1797 and eval_images.max() == 1.0  # accuracy on every digit


def _fake_run(workdir, categorical=(3,), continuous=2, weights=(1.0, 0.1), steps=(10, 20, 30)):
    """A workdir as a run leaves it: config.json, metrics.jsonl and traversal PNGs."""
    config = config_lib.Config(
        categorical=categorical, continuous=continuous, info_weight_cat=weights[0], info_weight_cont=weights[1]
    )
    os.makedirs(workdir / "samples")
    (workdir / "config.json").write_text(config.to_json())
    codes = [f"cat{i}" for i in range(len(categorical))] + [f"cont{j}" for j in range(continuous)]
    with open(workdir / "metrics.jsonl", "w") as f:
        for n, step in enumerate(steps):
            f.write(json.dumps({"step": step, **{f"info_lb/{c}": 0.3 * n for c in codes}}) + "\n")
    for step in steps:
        for code in codes:
            grid = np.full((60, 90), 40 * (step // 10), np.uint8)
            Image.fromarray(grid).save(workdir / "samples" / f"{code}_step{step:07d}.png")
    return config


def test_run_figures_show_every_code_and_the_baseline(tmp_path):
    _fake_run(tmp_path / "infogan")
    _fake_run(tmp_path / "gan", weights=(0.0, 0.0))
    alone = figures.write_run_figures(str(tmp_path / "infogan"))
    alone_shapes = {name: _png(path).shape for name, path in alone.items()}
    both = figures.write_run_figures(str(tmp_path / "infogan"), str(tmp_path / "gan"))
    for name, path in both.items():
        image = _png(path)
        assert image.std() > 10, f"{name} is blank"
    # cat0, cont0, cont1 (3 panels, 2 rows) -> + the baseline's cat0 (4 panels, still 2 rows).
    assert _png(both["traversals"]).shape == alone_shapes["traversals"]
    assert figures.latest_samples(str(tmp_path / "infogan"), 25)[0] == 20
    assert set(figures.latest_samples(str(tmp_path / "gan"))[1]) == {"cat0", "cont0", "cont1"}
    assert figures.run_label(config_lib.Config(info_weight_cat=0, info_weight_cont=0)).startswith("regular GAN")


@pytest.mark.parametrize("categorical, continuous", [((), 3), ((10, 10), 0)])
def test_figures_for_specs_with_one_kind_of_code(tmp_path, categorical, continuous):
    _fake_run(tmp_path, categorical=categorical, continuous=continuous)
    drawn = figures.write_run_figures(str(tmp_path))
    assert all(_png(path).std() > 10 for path in drawn.values())


def test_a_missing_baseline_workdir_is_refused_before_anything_is_written(tmp_path):
    config = dataclasses.replace(config_lib.PRESETS["digits"], baseline_workdir=str(tmp_path / "nope"), **TINY)
    with pytest.raises(config_lib.ConfigError, match=r"--baseline_workdir=.*nope is not a training workdir"):
        train_and_evaluate(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def _best_matching(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy under the best one-to-one matching of predicted values to labels, by dynamic programming
    over the sets of labels already matched (independent of the Hungarian algorithm in evaluate)."""
    classes = np.unique(labels)
    best = {0: 0}  # bit mask of the labels matched so far -> most agreements
    for value in np.unique(predictions):
        hits = [int(np.sum((predictions == value) & (labels == label))) for label in classes]
        for matched, total in list(best.items()):  # leaving `value` unmatched keeps every entry
            for j, count in enumerate(hits):
                if not matched & (1 << j):
                    key = matched | (1 << j)
                    best[key] = max(best.get(key, 0), total + count)
    return max(best.values()) / len(labels)


def test_fig1_recipe_trains_the_gan_baseline_and_infogan_on_real_digits(tmp_path):
    base = dataclasses.replace(config_lib.PRESETS["digits"], **TINY)
    docs = tmp_path / "docs"
    results = recipes.fig1(base, str(tmp_path / "fig1"), str(docs))
    assert results == json.loads((tmp_path / "fig1" / "results.json").read_text())
    gan = config_lib.Config.from_json((tmp_path / "fig1" / "gan" / "config.json").read_text())
    infogan = config_lib.Config.from_json((tmp_path / "fig1" / "infogan" / "config.json").read_text())
    assert (gan.info_weight_cat, gan.info_weight_cont, gan.baseline_workdir) == (0.0, 0.0, None)
    assert (infogan.info_weight_cat, infogan.baseline_workdir) == (1.0, str(tmp_path / "fig1" / "gan"))
    assert results["entropy/cat0"] == pytest.approx(math.log(10))
    for run in ("gan", "infogan"):
        # The accuracy is that of the run's final checkpoint's Q on the first 64 real digits.
        _, _, discriminator, path = export.restore(str(tmp_path / "fig1" / run))
        assert path.endswith("-2")
        images, labels = datasets.get(base.dataset).labelled_eval_set(base, base.labelled_eval_samples)
        assert images.shape == (64, 28, 28, 1) and set(labels.tolist()) == set(range(10))
        predictions = np.argmax(discriminator(images, training=False)["cat_logits"], axis=1)
        assert results[run]["categorical_accuracy"] == pytest.approx(_best_matching(predictions, labels), abs=1e-12)
        assert results[run]["train_seconds"] > 0 and "info_lb/cat0_last_logged" in results[run]
    assert sorted(os.listdir(docs)) == ["fig1_digits_info_lb.png", "fig1_digits_traversals.png"]
    # Re-running a finished recipe trains nothing: it re-evaluates and redraws.
    again = recipes.fig1(base, str(tmp_path / "fig1"))
    assert again["infogan"]["info_lb/cat0"] == pytest.approx(results["infogan"]["info_lb/cat0"], abs=1e-6)


def test_seeds_recipe_aggregates_every_seed(tmp_path, monkeypatch):
    evaluations = {0: {"mig": 0.1, "factor_vae": 0.5, "step": 4}, 1: {"mig": 0.3, "factor_vae": 0.7, "step": 4}}

    def fake_train(config, workdir):  # the aggregation and the table; training is tested elsewhere
        _fake_run(pathlib.Path(workdir))
        return dict(evaluations[config.seed])

    monkeypatch.setattr(recipes, "_train", fake_train)
    base = dataclasses.replace(config_lib.PRESETS["shapes"], **TINY)
    results = recipes.seeds(base, [0, 1], str(tmp_path))
    assert results["metrics"]["mig"]["mean"] == pytest.approx(0.2)
    assert results["metrics"]["factor_vae"]["std"] == pytest.approx(0.1)
    assert results["metrics"]["mig"]["per_seed"] == {"0": 0.1, "1": 0.3}
    assert (results["metrics"]["mig"]["min"], results["metrics"]["factor_vae"]["max"]) == (0.1, 0.7)
    table = recipes.seeds_table(results)
    assert "| 0.200 ± 0.100 | 0.600 ± 0.100 |" in table and "InfoGAN-CR (published, dSprites) | 0.37 | 0.88 |" in table
    without_factors = {**results, "metrics": {"categorical_accuracy": results["metrics"]["mig"]}}
    assert "published" not in recipes.seeds_table(without_factors)


def test_side_by_side_runs_train_each_in_its_own_process_on_its_own_cores(tmp_path):
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two CPU cores")
    base = dataclasses.replace(config_lib.PRESETS["digits"], **TINY)
    runs = {str(tmp_path / f"seed{seed}"): dataclasses.replace(base, seed=seed) for seed in (0, 1)}
    results = recipes._train_all(runs, parallel=2)  # what --recipe=seeds/select --parallel=2 train with
    for (workdir, config), share in zip(runs.items(), np.array_split(cores, 2), strict=True):
        # The run's own process reports the cores it may use: its share, not the machine's.
        log = pathlib.Path(workdir + ".log").read_text()
        assert f"Training {workdir} on CPU cores {[int(core) for core in share]}." in log, log[-2000:]
        written = config_lib.Config.from_json(pathlib.Path(workdir, "config.json").read_text())
        assert dataclasses.replace(written, mixed_precision="auto") == config  # "auto" is written resolved
        evaluation = json.loads(pathlib.Path(workdir, "eval.json").read_text())
        assert evaluation["step"] == base.steps
        assert results[workdir]["categorical_accuracy"] == evaluation["categorical_accuracy"]
        assert results[workdir]["train_seconds"] > 0


def _fake_children(monkeypatch, code):
    """Runs `code` (with `workdir` = its run's workdir) as each side-by-side run's process instead of training."""
    monkeypatch.setattr(recipes, "_CHILD", "import sys; workdir = sys.argv[2]; {cores}; " + code)


def test_side_by_side_runs_that_fail_are_named_with_their_logs_last_line(tmp_path, monkeypatch):
    _fake_children(monkeypatch, "print('ran'); print('ValueError: bad ' + workdir[-5:]); sys.exit(1)")
    runs = {str(tmp_path / name): config_lib.PRESETS["shapes"] for name in ("seed0", "seed1", "seed2")}
    with pytest.raises(RuntimeError, match="3 of the runs failed") as failure:
        recipes._train_all(runs, parallel=2)
    for name in ("seed0", "seed1", "seed2"):
        assert f"{tmp_path / name}.log ends: ValueError: bad {name}" in str(failure.value)
    with pytest.raises(config_lib.ConfigError, match="--parallel=0 must be between 1 and"):
        recipes._train_all(runs, parallel=0)


def test_a_signal_stops_the_side_by_side_runs_and_raises_interrupted(tmp_path, monkeypatch):
    # Each run writes <workdir>.ready once its SIGTERM handler is set, then exits _STOPPED on SIGTERM.
    _fake_children(
        monkeypatch,
        "import signal, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(3)); "
        "open(workdir + '.ready', 'w').close(); time.sleep(60)",
    )
    runs = {str(tmp_path / name): config_lib.PRESETS["shapes"] for name in ("seed0", "seed1", "seed2")}

    def signal_once_both_run():
        while not all((tmp_path / f"seed{seed}.ready").exists() for seed in (0, 1)):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=signal_once_both_run, daemon=True).start()
    start = time.time()
    with pytest.raises(recipes.Interrupted, match="SIGTERM stopped the runs"):
        recipes._train_all(runs, parallel=2)
    assert time.time() - start < 30  # passed on at once, not after the runs' 60 s
    assert not (tmp_path / "seed2.ready").exists()  # no run is started after the signal
    assert signal.getsignal(signal.SIGTERM) is before  # the recipe's handler is gone again


def test_mnist_recipe_screens_picks_without_labels_and_trains_only_the_pick_on(tmp_path):
    rng = np.random.default_rng(0)
    train = tmp_path / "train.npz"
    np.savez(train, images=rng.integers(0, 256, (40, 28, 28), np.uint8), labels=rng.integers(0, 10, 40))
    heldout = tmp_path / "test.npz"
    np.savez(heldout, images=rng.integers(0, 256, (24, 28, 28), np.uint8), labels=rng.integers(0, 10, 24))
    rgb = tmp_path / "rgb.npz"
    np.savez(rgb, images=rng.integers(0, 256, (40, 28, 28, 3), np.uint8), labels=rng.integers(0, 10, 40))
    base = dataclasses.replace(
        config_lib.PRESETS["npz"], **{**TINY, "steps": 4}, data_path=str(train), heldout_path=str(heldout), noise_dim=8
    )
    workdir = tmp_path / "mnist"
    results = recipes.mnist(
        base, [0, 1], str(workdir), screen_steps=2, export=False, num_samples=256, select_by="centrality"
    )
    assert results == json.loads((workdir / "results.json").read_text())
    chosen = results["chosen"]["seed"]
    assert chosen in (0, 1) and results["chosen"]["workdir"] == str(workdir / f"seed{chosen}")
    # Both seeds were screened to step 2; only the pick went on to step 4, scored on the held-out digits.
    steps = {seed: json.loads((workdir / f"seed{seed}" / "eval.json").read_text())["step"] for seed in (0, 1)}
    assert steps == {chosen: 4, 1 - chosen: 2}
    assert results["final"]["step"] == 4 and results["final"]["categorical_heldout"] == 1.0
    assert [run["eval"]["step"] for run in results["selection"]["runs"]] == [2, 2]
    summary = recipes.mnist_summary(results)
    assert f"picked seed {chosen} of [0, 1] at step 2; at step 4 its held-out accuracy is" in summary
    # Run again, it resumes: the pick is kept and nothing trains further.
    again = recipes.mnist(
        base, [0, 1], str(workdir), screen_steps=2, export=False, num_samples=256, select_by="centrality"
    )
    assert again["chosen"] == results["chosen"] and again["final"]["step"] == 4
    # The default, --select_by=slant_share, picks the run whose categories explain the least of the training
    # images' slant (here among the finished runs above, copied without their pick); a workdir keeps the way
    # it picked.
    with pytest.raises(config_lib.ConfigError, match="holds a pick made with --select_by=centrality; resume with"):
        recipes.mnist(base, [0, 1], str(workdir), screen_steps=2, export=False)
    images = np.load(train)["images"][..., None].astype(np.float32) / 255.0
    shares = []
    for seed in (0, 1):
        config, _, discriminator, _ = export.restore(str(workdir / f"seed{seed}"))
        read = evaluate.representation(discriminator, LatentSpec.from_config(config), images)[:, 0]
        shares.append(evaluate.slant_share(read, images))
    by_share = tmp_path / "by_share"
    shutil.copytree(workdir, by_share)
    (by_share / "results.json").unlink()
    picked = recipes.mnist(base, [0, 1], str(by_share), screen_steps=2, export=False)
    assert [run["slant_share"] for run in picked["selection"]["runs"]] == pytest.approx(shares, abs=1e-9)
    assert picked["chosen"]["seed"] == int(np.argmin(shares)) and picked["select_by"] == "slant_share"
    assert recipes.mnist_summary(picked).startswith(f"The lowest slant share picked seed {int(np.argmin(shares))} ")
    # Bad input: one clear sentence, before anything trains.
    cases = [
        ({"seed_list": [0]}, "--recipe=mnist picks among seeds"),
        ({"screen_steps": 4}, "--screen_steps=4 must be positive and below --steps=4"),
        ({"base": dataclasses.replace(base, heldout_path=None)}, "holds none out here: give --heldout_path=test.npz"),
        ({"base": dataclasses.replace(base, data_path=str(tmp_path / "none.npz"))}, "none.npz does not exist"),
        ({"select_by": "nearest"}, "--select_by=nearest must be one of slant_share, centrality"),
        ({"base": dataclasses.replace(base, data_path=str(rgb))}, "has 3 channels; use --select_by=centrality"),
    ]
    for change, message in cases:
        arguments = {"base": base, "seed_list": [0, 1], "workdir": str(tmp_path / "never"), "screen_steps": 2, **change}
        with pytest.raises(config_lib.ConfigError, match=message):
            recipes.mnist(**arguments)
        assert not (tmp_path / "never").exists()

"""The figures a run writes, the real-digits dataset and the reproduction recipes (tiny runs)."""

import dataclasses
import json
import math
import os
import pathlib

import numpy as np
import pytest
from conftest import TINY_RUN
from PIL import Image

from infogan_tf import config as config_lib
from infogan_tf import export, figures, input_pipeline, local_data, recipes
from infogan_tf.train import train_and_evaluate

TINY = {**TINY_RUN, "eval_samples": 64, "factor_eval_samples": 256}


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
    eval_images, eval_labels = input_pipeline.labelled_eval_set(config, config.eval_samples)
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
        images, labels = input_pipeline.labelled_eval_set(base, base.eval_samples)
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
    table = recipes.seeds_table(results)
    assert "| 0.200 ± 0.100 | 0.600 ± 0.100 |" in table and "InfoGAN-CR (published, dSprites) | 0.37 | 0.88 |" in table
    without_factors = {**results, "metrics": {"categorical_accuracy": results["metrics"]["mig"]}}
    assert "published" not in recipes.seeds_table(without_factors)

"""InfoGAN-CR: pairs, the contrastive regulariser's loss and gradients, spectral normalisation, the
preset, and training with CR on dSprites' own file. CR's exact resume is in test_reliability's kill -9
test, CR and SN under MirroredStrategy in test_train's mirrored == single-device step test."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_RUN

from infogan_tf import config as config_lib
from infogan_tf import datasets, figures, local_data, losses, models
from infogan_tf.datasets import shapes
from infogan_tf.gan import InfoGAN
from infogan_tf.latent import LatentSpec
from infogan_tf.regularisers import contrastive
from infogan_tf.train import train_and_evaluate

# The InfoGAN-CR preset on shapes, cut down to a few fast steps with CR from step 1.
TINY_CR = {**TINY_RUN, "steps": 4, "sample_every": 100, "eval_every": 100, "cr_start_step": 1}


def _cr_config(**overrides) -> config_lib.Config:
    return dataclasses.replace(config_lib.resolve("shapes", {}, "infogan_cr"), **{**TINY_CR, **overrides})


@pytest.mark.parametrize("gap", [0.0, 0.5, 1.5])
def test_pairs_share_code_k_and_the_noise_and_differ_by_the_gap_elsewhere(gap):
    spec = LatentSpec(noise_dim=3, categorical=(4, 3), continuous=3)
    first, second, shared = contrastive.sample_pairs(spec, tf.random.Generator.from_seed(5), 6000, gap)
    shared = shared.numpy()
    np.testing.assert_array_equal(first["z"].numpy(), second["z"].numpy())  # their sample_cr: z the same
    # k is uniform over the 5 codes (categorical first): each within 4 standard errors of 1/5.
    counts = np.bincount(shared, minlength=5)
    assert len(counts) == 5 and np.all(np.abs(counts / 6000 - 0.2) < 4 * math.sqrt(0.2 * 0.8 / 6000)), counts
    cats = (first["categorical"].numpy(), second["categorical"].numpy())
    conts = (first["continuous"].numpy(), second["continuous"].numpy())
    for i in range(2):
        rows = shared == i
        np.testing.assert_array_equal(cats[0][rows, i], cats[1][rows, i])
        others = cats[0][~rows, i] != cats[1][~rows, i]
        # Not shared: always different with a gap; independent draws without (equal 1 time in K).
        assert others.all() if gap > 0 else abs(1 - others.mean() - 1 / spec.categorical[i]) < 0.03
    for j in range(3):
        rows = shared == 2 + j
        np.testing.assert_array_equal(conts[0][rows, j], conts[1][rows, j])
        distance = np.abs(conts[0][~rows, j] - conts[1][~rows, j])
        assert distance.min() >= gap - 1e-6 and (gap > 0 or distance.min() < 0.01)
        assert conts[0].min() >= -1 and conts[0].max() <= 1 and conts[1].min() >= -1 and conts[1].max() <= 1
    for value in (*cats, *conts):
        assert value.shape[0] == 6000


def _train_classifier_on_pairs(generator, spec, steps=150, batch=32):
    """Trains a fresh CR classifier on G's pairs; its mean loss on fresh pairs after."""
    keras.utils.set_random_seed(0)  # the same classifier whatever ran before in this process
    classifier = contrastive.ContrastiveClassifier(len(spec.code_names), name="cr")
    optimizer = keras.optimizers.Adam(2e-3, beta_1=0.5)
    rng = tf.random.Generator.from_seed(3)

    def pair_batch():
        first, second, shared = contrastive.sample_pairs(spec, rng, batch)
        return tf.concat([generator(first), generator(second)], -1), shared

    @tf.function
    def step():
        images, shared = pair_batch()
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(losses.contrastive_loss(classifier(images, training=True), shared))
        optimizer.apply(tape.gradient(loss, classifier.trainable_variables), classifier.trainable_variables)

    for _ in range(steps):
        step()
    images, shared = zip(*(pair_batch() for _ in range(16)), strict=True)
    logits = classifier(tf.concat(images, 0))
    return float(tf.reduce_mean(losses.contrastive_loss(logits, tf.concat(shared, 0))))


def _stripes(values: tf.Tensor) -> tf.Tensor:
    """[B, K] values in [0, 1] -> [B, 32, 32, 1] images whose K vertical stripes hold them."""
    columns = tf.gather(values, tf.range(32) * values.shape[1] // 32, axis=1)  # [B, 32]
    return tf.tile(columns[:, None, :, None], [1, 32, 1, 1])


def test_cr_loss_is_ln_k_for_a_generator_that_ignores_its_codes():
    # K = 3 codes (Cat(3) and 2 continuous) and two generators of 32x32 images: one paints each code in
    # a stripe of its own; the other paints the noise z there and ignores its codes.
    spec = LatentSpec(noise_dim=3, categorical=(3,), continuous=2)
    k = len(spec.code_names)

    def seeing(latent):
        category = tf.cast(latent["categorical"], tf.float32) / 2.0
        return _stripes(tf.concat([category, (latent["continuous"] + 1.0) / 2.0], axis=1))

    def ignoring(latent):
        return _stripes((latent["z"] + 1.0) / 2.0)

    # A pair from a code-blind G holds two copies of one image whatever k is: no classifier beats ln K,
    # and trained, the classifier's loss ends at ln K.
    blind = _train_classifier_on_pairs(ignoring, spec)
    assert abs(blind - math.log(k)) < 0.02, (blind, math.log(k))
    # The same training on pairs from a G that shows its codes tells k apart: the bound above can fail.
    shown = _train_classifier_on_pairs(seeing, spec)
    assert shown < 0.8 * math.log(k), (shown, math.log(k))


def _copy(source, target):
    for a, b in zip(source.variables, target.variables, strict=True):
        b.assign(a)


def _models(count: int, **overrides) -> list[InfoGAN]:
    """`count` InfoGANs (single device) with identical weights: the MNIST networks (28x28, fast), 4
    noise inputs, Cat(3) and 2 continuous codes, CR on."""
    config = config_lib.Config(noise_dim=4, categorical=(3,), continuous=2, batch_size=8, jit_compile=False)
    config = dataclasses.replace(config, **overrides)
    built = [InfoGAN(config, tf.distribute.get_strategy()) for _ in range(count)]
    for model in built[1:]:
        for network in ("generator", "discriminator", "cr_classifier"):
            _copy(_network(built[0], network), _network(model, network))
    return built


def _network(model: InfoGAN, name: str):
    """G, D/Q, or the contrastive regulariser's classifier."""
    return model.regularisers[0].classifier if name == "cr_classifier" else getattr(model, name)


def _snapshot(network) -> dict[str, np.ndarray]:
    return {v.path: v.numpy() for v in network.variables}


def _assert_same(a: dict, b: dict, same: bool, what: str):
    equal = all(np.array_equal(a[name], b[name]) for name in a)
    assert equal == same, f"{what}: {'differ' if same else 'are equal'}"


def test_cr_gradient_reaches_g_and_the_classifier_and_nothing_else():
    # One step from the same weights and RNG state with CR (weight 1), without CR, and with CR weight 3.
    with_cr, without, heavy = _models(3, g_steps=1, cr_weight=1.0)
    heavy.regularisers[0].config = dataclasses.replace(heavy.config, cr_weight=3.0)
    images = tf.random.stateless_uniform([8, 28, 28, 1], [1, 2])
    classifier_before = _snapshot(_network(with_cr, "cr_classifier"))
    for model, cr in ((with_cr, True), (without, False), (heavy, True)):
        model.rng.reset_from_seed(7)
        tf.function(model._sample_and_step)(images, ("contrastive",) if cr else ())
    after = {
        name: [_snapshot(_network(m, name)) for m in (with_cr, without, heavy)]
        for name in ("generator", "discriminator", "cr_classifier")
    }
    # CR never reaches D/Q: its update is the same with and without CR, and whatever CR's weight.
    _assert_same(after["discriminator"][0], after["discriminator"][1], True, "D/Q with and without CR")
    _assert_same(after["discriminator"][0], after["discriminator"][2], True, "D/Q with CR weights 1 and 3")
    # It reaches G: G's update changes with CR and with CR's weight.
    _assert_same(after["generator"][0], after["generator"][1], False, "G with and without CR")
    _assert_same(after["generator"][0], after["generator"][2], False, "G with CR weights 1 and 3")
    # The classifier learns with CR (not without), from its own loss, which CR's weight does not scale.
    _assert_same(after["cr_classifier"][0], classifier_before, False, "the classifier after a CR step")
    _assert_same(after["cr_classifier"][1], classifier_before, True, "the classifier without CR")
    _assert_same(after["cr_classifier"][0], after["cr_classifier"][2], True, "the classifier with CR weights 1 and 3")


def _largest_singular_value(kernel) -> float:
    matrix = np.reshape(np.asarray(kernel), [-1, kernel.shape[-1]])
    return float(np.linalg.svd(matrix, compute_uv=False)[0])


def test_spectral_norm_uses_every_d_and_classifier_kernel_at_singular_value_one():
    config = _cr_config()
    assert config.spectral_norm
    keras.utils.set_random_seed(1)
    _, discriminator = models.build_models(config)
    classifier = contrastive.build_classifier(config)
    wrapped = [layer for layer in discriminator.layers + classifier.layers if isinstance(layer, models.SpectralNorm)]
    # D's 4 convs, FC, D head, Q's FC and head; the classifier's 4 convs and FC (not its logits).
    assert len(wrapped) == 8 + 5
    images = tf.random.stateless_uniform([4, 64, 64, 1], [0, 1])
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            out = discriminator(images, training=True)
            loss = tf.reduce_sum(out["logit"]) + tf.reduce_sum(out["cont_mean"])
        optimizer.apply(tape.gradient(loss, discriminator.trainable_variables), discriminator.trainable_variables)

    for _ in range(30):  # one power iteration per training call; Adam moves the kernels in between
        train_step()
    pairs = tf.concat([images, images], -1)
    power_iteration = tf.function(lambda: (discriminator(images, training=True), classifier(pairs, training=True)))
    for _ in range(100):  # from a random vector, one iteration per call converges in ~100 calls
        power_iteration()
    # The kernels themselves are free (N(0, 0.02) kernels are far from 1: the test can fail) ...
    kernels = [_largest_singular_value(layer.layer.kernel) for layer in wrapped]
    assert max(kernels) > 1.5 or min(kernels) < 0.5, kernels
    # ... what the layers use is W / sigma(W).
    used = [_largest_singular_value(layer.normalized_kernel()) for layer in wrapped]
    np.testing.assert_allclose(used, 1.0, atol=0.02)
    x = tf.random.stateless_normal([3, 64, 64, 1], [0, 2])
    conv = wrapped[0]
    expected = tf.nn.conv2d(x, conv.normalized_kernel(), 2, "SAME") + conv.layer.bias
    np.testing.assert_allclose(conv(x), expected, atol=1e-5)
    # Without --spectral_norm, nothing is wrapped.
    _, plain = models.build_models(dataclasses.replace(config, spectral_norm=False))
    assert not any(isinstance(layer, keras.layers.Wrapper) for layer in plain.layers)


def _dense_or_conv(layer, x, kernel):
    if isinstance(layer, keras.layers.Conv2D):
        return tf.nn.conv2d(x, kernel, 1, "VALID") + layer.bias
    return tf.tensordot(x, kernel, 1) + layer.bias


@pytest.mark.parametrize("make_layer", [lambda: keras.layers.Dense(7), lambda: keras.layers.Conv2D(5, 3)])
def test_spectral_norm_gradient_passes_through_sigma(make_layer):
    # A loss of W / sigma(W), sigma = v'Wu with u and v held, does not change when W is scaled, so its
    # gradient is orthogonal to W. With sigma held (Keras' SpectralNormalization writes W / sigma into
    # W and differentiates the layer alone), <grad, W> is far from 0.
    keras.utils.set_random_seed(3)
    layer = models.SpectralNorm(make_layer())
    x = tf.random.stateless_normal([4, 6, 6, 3], [0, 3])
    layer(x)
    kernel = layer.layer.kernel
    with tf.GradientTape(persistent=True) as tape:
        sigma = tf.norm(kernel) / tf.norm(layer.normalized_kernel())  # from the u the training call starts at
        through = tf.reduce_sum(tf.sin(layer(x, training=True)))
        held = tf.reduce_sum(tf.sin(_dense_or_conv(layer.layer, x, kernel / tf.stop_gradient(sigma))))
    np.testing.assert_allclose(float(held), float(through), rtol=1e-5)  # the same loss ...

    def cosine(gradient):
        return float(tf.reduce_sum(gradient * kernel) / (tf.norm(gradient) * tf.norm(kernel)))

    assert abs(cosine(tape.gradient(through, kernel))) < 1e-4  # ... differentiated through sigma
    assert abs(cosine(tape.gradient(held, kernel))) > 0.01


def test_infogan_cr_preset_holds_the_reference_values_and_flags_override_it():
    config = config_lib.resolve("shapes", {"steps": 3000, "cr_start_step": 2000}, "infogan_cr")
    expected = dict(
        noise_dim=5,
        categorical=(),
        continuous=5,
        info_weight_cont=0.05,
        q_hidden=128,
        architecture="infogan_cr",
        spectral_norm=True,
        lr_g=1e-3,
        lr_d=2e-3,
        lr_cr=2e-3,
        g_steps=2,
        batch_size=64,
        cr_weight=2.0,
        cr_gap=0.0,
        steps=3000,
        cr_start_step=2000,
        preset="infogan_cr",
        dataset="shapes",
    )
    assert {name: getattr(config, name) for name in expected} == expected
    # 28 epochs of dSprites at batch 64, CR from 288,000 (25 epochs).
    full = config_lib.resolve("dsprites", {}, "infogan_cr")
    assert (full.steps, full.cr_start_step) == (28 * 737_280 // 64, 25 * 737_280 // 64)
    assert config_lib.resolve("shapes", {}).cr_weight == 0 and not config_lib.resolve("shapes", {}).spectral_norm
    with pytest.raises(config_lib.ConfigError, match="--preset='nope' is not available"):
        config_lib.resolve("shapes", {}, "nope")
    with pytest.raises(config_lib.ConfigError, match="--preset=infogan_cr is for 64x64 single-channel"):
        config_lib.resolve("svhn", {}, "infogan_cr")
    with pytest.raises(config_lib.ConfigError, match="--cr_gap=2.5"):
        config_lib.resolve("shapes", {"cr_gap": 2.5}, "infogan_cr")


def _write_dsprites_npz(path, n=64):
    """A file in dSprites' published layout: 0/1 uint8 'imgs' [N, 64, 64], 'latents_classes' and
    'latents_values' [N, 6] (colour, shape, scale, orientation, x, y)."""
    rng = np.random.default_rng(0)
    classes = np.stack([np.zeros(n, np.int64)] + [rng.integers(0, size, n) for size in (3, 6, 40, 32, 32)], axis=1)
    imgs = np.zeros((n, 64, 64), np.uint8)
    for i, (_, _, scale, _, x, y) in enumerate(classes):
        half = 3 + scale
        imgs[i, 10 + y : 10 + y + half, 10 + x : 10 + x + half] = 1
    np.savez(path, imgs=imgs, latents_classes=classes, latents_values=classes.astype(np.float64))
    return imgs, classes


def test_dsprites_npz_as_published_trains_with_the_preset_and_reports_mig_and_factor_vae(tmp_path):
    imgs, classes = _write_dsprites_npz(tmp_path / "dsprites.npz")
    images, labels, factors = local_data.load_npz(str(tmp_path / "dsprites.npz"))
    np.testing.assert_array_equal(images[..., 0], imgs * 255)
    np.testing.assert_array_equal(factors, classes[:, 1:])
    np.testing.assert_array_equal(labels, classes[:, 1])
    overrides = dict(data_path=str(tmp_path / "dsprites.npz"), **{**TINY_CR, "steps": 2, "eval_every": 2, "g_steps": 1})
    config = config_lib.resolve("npz", overrides, "infogan_cr")
    results = train_and_evaluate(config, str(tmp_path / "run"))
    stored = config_lib.read_workdir_config(str(tmp_path / "run"))
    assert (stored.architecture, stored.image_shape, stored.preset) == ("infogan_cr", (64, 64, 1), "infogan_cr")
    assert {"eval/mig", "eval/factor_vae", "cr_loss"} <= set(results)
    # The factors are dSprites' five, by name, and each code's information about each is in eval.json.
    evaluation = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert {f"mi/cont{j}/{name}" for j in range(5) for name in shapes.FACTOR_NAMES} <= set(evaluation)
    # CR from step 1: the first step has no CR metrics, the second has, near ln K for a new classifier.
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [("cr_loss" in row) for row in rows] == [False, True] and abs(rows[1]["cr_loss"] - math.log(5)) < 0.1
    reader = tf.train.load_checkpoint(str(tmp_path / "run" / "checkpoints"))
    keys = reader.get_variable_to_shape_map()
    assert any(key.startswith("cr_classifier/") for key in keys) and any(
        key.startswith("cr_optimizer/") for key in keys
    )
    # Anything else than 64x64x1 is refused with the flag named.
    np.savez(tmp_path / "small.npz", images=np.zeros((16, 28, 28), np.uint8))
    with pytest.raises(config_lib.ConfigError, match="--preset=infogan_cr needs 64x64 single-channel"):
        train_and_evaluate(config_lib.resolve("npz", {"data_path": str(tmp_path / "small.npz")}, "infogan_cr"), "x")


def test_traversal_captions_name_the_factor_each_code_has_the_most_information_about(tmp_path):
    evaluation = {"step": 40, "mig": 0.1, "mi/cont0/scale": 0.05, "mi/cont0/pos_x": 0.6, "mi/cont1/shape": 0.2}
    (tmp_path / "eval.json").write_text(json.dumps(evaluation))
    step, best = figures.code_factors(str(tmp_path))
    assert step == 40 and best == {"cont0": ("pos_x", 0.6), "cont1": ("shape", 0.2)}
    config = _cr_config()
    caption = figures._caption(config, "cont0", False, best["cont0"])
    assert caption.endswith("most informative of pos_x (I/H 0.60)")
    assert figures.code_factors(str(tmp_path / "none")) == (None, {})


def test_a_cr_checkpoint_written_before_the_regulariser_interface_still_restores(tmp_path):
    # tests/data/cr_checkpoint_4b6702b: a 2-step shapes run with the InfoGAN-CR preset and CR from step 1,
    # written by commit 4b6702b, when the classifier and its optimiser were attributes of the training
    # class. Their checkpoint keys must not change: every value in it finds its object, and it resumes.
    fixture = os.path.join(os.path.dirname(__file__), "data", "cr_checkpoint_4b6702b")
    workdir = tmp_path / "run"
    shutil.copytree(fixture, workdir)
    config = config_lib.read_workdir_config(str(workdir))
    model = InfoGAN(config, tf.distribute.get_strategy())
    iterator = iter(datasets.get(config.dataset).train_dataset(config))
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(step=step, data_iterator=iterator, **model.checkpoint_objects())
    checkpoint.restore(str(workdir / "checkpoints" / "ckpt-2")).assert_consumed()
    reader = tf.train.load_checkpoint(str(workdir / "checkpoints" / "ckpt-2"))
    logits = reader.get_tensor("cr_classifier/logits/_kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(model.regularisers[0].classifier.logits.kernel.numpy(), logits)
    assert int(step) == 2
    # And a run resumes from it, CR's metrics and all.
    results = train_and_evaluate(dataclasses.replace(config, steps=3, eval_every=3, sample_every=3), str(workdir))
    assert results["step"] == 3 and "cr_loss" in results

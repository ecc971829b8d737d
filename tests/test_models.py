"""Networks: shapes, the paper's MNIST architecture, and where the information term's gradient goes."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import config as config_lib
from infogan_tf import losses, models
from infogan_tf.config import PRESETS
from infogan_tf.gan import InfoGAN
from infogan_tf.latent import LatentSpec

_LATENT_AND_NET = ("noise_dim", "categorical", "continuous", "q_hidden", "architecture", "image_shape")


def _latent(config, batch=4, seed=0):
    return LatentSpec.from_config(config).sample(tf.random.Generator.from_seed(seed), batch)


def _images(config, batch=4, seed=0):
    return tf.random.stateless_uniform([batch, *config.image_shape], [seed, 1])


def _numpy(value) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _max_abs_diff(variables_a, variables_b) -> float:
    assert len(variables_a) == len(variables_b) > 0
    pairs = zip(variables_a, variables_b, strict=True)
    return max(float(np.max(np.abs(_numpy(a) - _numpy(b)))) for a, b in pairs)


@pytest.mark.parametrize("architecture, image_shape", [("mnist", (28, 28, 1)), ("dcgan64", (64, 64, 1))])
@pytest.mark.parametrize("q_std", ["fixed", "learned"])
def test_output_shapes_and_every_input_reaches_the_outputs(mnist_config, architecture, image_shape, q_std):
    config = dataclasses.replace(
        mnist_config, architecture=architecture, image_shape=image_shape, q_std=q_std, categorical=(10, 4), continuous=3
    )
    generator, discriminator = models.build_models(config)
    latent = _latent(config, batch=3)
    images = generator(latent, training=False)
    assert images.shape == (3, *image_shape)
    # In inference mode an example's image is a function of its own latent alone (BN's moving
    # statistics, not the batch's) ...
    alone = generator({name: value[:1] for name, value in latent.items()}, training=False)
    np.testing.assert_allclose(alone, images[:1], rtol=0, atol=1e-6)
    # ... and of every part of it: z, the categorical codes and the continuous codes.
    changed = {
        "z": {**latent, "z": -latent["z"]},
        "categorical": {**latent, "categorical": (latent["categorical"] + 1) % tf.constant([[10, 4]])},
        "continuous": {**latent, "continuous": -latent["continuous"]},
    }
    for name, other in changed.items():
        difference = tf.reduce_max(tf.abs(generator(other, training=False) - images), axis=[1, 2, 3])
        assert np.all(difference.numpy() > 1e-5), name

    out = discriminator(images, training=False)
    # Q and D read their own image: other images give other outputs, the same image the same ones.
    alone = discriminator(images[:1], training=False)
    other = discriminator(generator(changed["z"], training=False), training=False)
    for name in ("logit", "cat_logits", "cont_mean"):
        np.testing.assert_allclose(alone[name], out[name][:1], rtol=0, atol=1e-6, err_msg=name)
        # At least one image: an untrained G can make two nearly equal images, but a D or Q that ignores
        # its input gives exactly the same outputs for all three.
        assert np.abs(_numpy(other[name]) - _numpy(out[name])).max() > 1e-6, name
    expected_keys = {"logit", "features", "cat_logits", "cont_mean", "q_features"} | (
        {"cont_log_std"} if q_std == "learned" else set()
    )
    assert set(out) == expected_keys
    assert out["logit"].shape == (3,)
    assert out["cat_logits"].shape == (3, 14) and out["q_features"].shape == (3, 128)
    assert out["cont_mean"].shape == (3, 3)
    if q_std == "learned":
        assert out["cont_log_std"].shape == (3, 3)


@pytest.mark.parametrize("bias, bound", [(100.0, models.LOG_STD_RANGE[1]), (-100.0, models.LOG_STD_RANGE[0])])
def test_learned_log_std_is_clamped(mnist_config, bias, bound):
    config = dataclasses.replace(mnist_config, q_std="learned")
    _, discriminator = models.build_models(config)
    head = discriminator.q_head
    n_cat, n_cont = sum(config.categorical), config.continuous
    # Zero kernel, and a bias far outside the range on the log-std outputs only.
    head.kernel.assign(tf.zeros_like(head.kernel))
    head.bias.assign(tf.concat([tf.zeros([n_cat + n_cont]), tf.fill([n_cont], bias)], axis=0))
    out = discriminator(_images(config), training=False)
    np.testing.assert_array_equal(out["cont_log_std"], np.full([4, n_cont], bound, np.float32))
    np.testing.assert_array_equal(out["cont_mean"], np.zeros([4, n_cont], np.float32))


def test_mnist_architecture_is_the_papers(mnist_config):
    """arXiv:1606.03657 Table 1: G FC1024, FC7x7x128, deconv 64 s2, deconv 1 s2; D conv 64 s2, conv 128 s2, FC1024."""
    generator, discriminator = models.build_models(mnist_config)
    spec = LatentSpec.from_config(mnist_config)
    assert spec.input_dim == 62 + 10 + 2

    assert generator.fc1.kernel.shape == (74, 1024)
    assert generator.fc2.kernel.shape == (1024, 7 * 7 * 128)
    assert generator.num_deconvs == 1 and generator.deconv0.filters == 64
    # Conv2DTranspose kernels are [h, w, out, in].
    assert generator.deconv0.kernel.shape == (4, 4, 64, 128)
    assert generator.deconv0.strides == (2, 2)
    assert generator.to_image.kernel.shape == (4, 4, 1, 64)
    assert generator.to_image.strides == (2, 2)

    assert discriminator.num_convs == 2
    assert [discriminator.conv0.kernel.shape, discriminator.conv1.kernel.shape] == [(4, 4, 1, 64), (4, 4, 64, 128)]
    assert discriminator.conv0.strides == discriminator.conv1.strides == (2, 2)
    assert not hasattr(discriminator, "conv_bn0") and discriminator.conv_bn1 is not None
    # 28 -> 14 -> 7: the FC layer sees 7x7x128 features.
    assert discriminator.fc.kernel.shape == (7 * 7 * 128, 1024)
    assert discriminator.d_head.kernel.shape == (1024, 1)
    assert discriminator.q_fc.kernel.shape == (1024, 128)
    assert discriminator.q_head.kernel.shape == (128, 10 + 2)


def test_mnist_architecture_intermediate_shapes(mnist_config):
    generator, discriminator = models.build_models(mnist_config)
    x = generator.spec.generator_input(_latent(mnist_config, batch=2))
    x = generator.fc1(x)
    assert x.shape == (2, 1024)
    x = generator.reshape(generator.fc2(x))
    assert x.shape == (2, 7, 7, 128)
    x = generator.deconv0(x)
    assert x.shape == (2, 14, 14, 64)
    assert generator.to_image(x).shape == (2, 28, 28, 1)

    y = _images(mnist_config, batch=2)
    y = discriminator.conv0(y)
    assert y.shape == (2, 14, 14, 64)
    y = discriminator.conv1(y)
    assert y.shape == (2, 7, 7, 128)
    h = discriminator.fc(discriminator.flatten(y))
    assert h.shape == (2, 1024)
    assert discriminator.q_fc(h).shape == (2, 128)


def test_chairs_architecture_is_the_papers(mnist_config):
    """arXiv:1606.03657 Appendix C, 3D chairs: G FC1024, FC8x8x256, deconv 256 s1, 256 s1, 128 s2, 64 s2,
    1 s2; D conv 64 s2, 128 s2, 256 s2, 256 s1, 256 s1, FC1024; D and Q differ only in their output units
    (Appendix C.5: no Q hidden layer); Appendix C.5's latent spec: 3 x Cat(20), 1 continuous, 128 noise."""
    config = dataclasses.replace(mnist_config, **{name: getattr(PRESETS["chairs"], name) for name in _LATENT_AND_NET})
    assert (config.noise_dim, config.categorical, config.continuous, config.q_hidden) == (128, (20,) * 3, 1, 0)
    generator, discriminator = models.build_models(config)
    assert generator.fc1.kernel.shape == (128 + 60 + 1, 1024)
    assert generator.fc2.kernel.shape == (1024, 8 * 8 * 256)
    deconvs = [getattr(generator, f"deconv{i}") for i in range(generator.num_deconvs)]
    assert [(d.filters, d.strides[0], d.kernel_size) for d in deconvs] == [
        (256, 1, (4, 4)),
        (256, 1, (4, 4)),
        (128, 2, (4, 4)),
        (64, 2, (4, 4)),
    ]
    assert generator.to_image.kernel.shape == (4, 4, 1, 64) and generator.to_image.strides == (2, 2)
    convs = [getattr(discriminator, f"conv{i}") for i in range(discriminator.num_convs)]
    assert [(c.filters, c.strides[0]) for c in convs] == [(64, 2), (128, 2), (256, 2), (256, 1), (256, 1)]
    assert [hasattr(discriminator, f"conv_bn{i}") for i in range(5)] == [False, True, True, True, True]
    assert discriminator.fc.kernel.shape == (8 * 8 * 256, 1024)  # 64 -> 32 -> 16 -> 8 -> 8 -> 8
    assert discriminator.q_head.kernel.shape == (1024, 60 + 1) and not hasattr(discriminator, "q_fc")
    assert discriminator.q_variables == discriminator.q_head.trainable_variables
    assert generator(_latent(config, batch=2)).shape == (2, 64, 64, 1)
    # The faces preset shares the chairs networks and Q; SVHN takes Appendix C.2's 4 continuous codes.
    assert (PRESETS["faces"].architecture, PRESETS["faces"].q_hidden, PRESETS["faces"].continuous) == ("chairs", 0, 5)
    assert (PRESETS["svhn"].continuous, PRESETS["svhn"].q_hidden, PRESETS["svhn"].noise_dim) == (4, 128, 124)


def test_svhn_architecture_is_the_papers(mnist_config):
    """arXiv:1606.03657 Appendix C, SVHN (and CelebA): G FC2x2x448-BN, deconv 256 s2 BN, 128 s2, 64 s2,
    3 s2; D conv 64 s2, 128 s2 BN, 256 s2 BN, then the D head and Q's FC128 on the conv features."""
    config = dataclasses.replace(
        mnist_config, architecture="svhn", image_shape=(32, 32, 3), noise_dim=124, categorical=(10,) * 4, continuous=2
    )
    generator, discriminator = models.build_models(config)
    assert not generator.has_fc1 and generator.fc2.kernel.shape == (124 + 40 + 2, 2 * 2 * 448)
    deconvs = [getattr(generator, f"deconv{i}") for i in range(generator.num_deconvs)]
    assert [(d.filters, d.strides[0]) for d in deconvs] == [(256, 2), (128, 2), (64, 2)]
    assert generator.deconv_has_bn == (True, False, False)
    assert generator.to_image.kernel.shape == (4, 4, 3, 64)
    convs = [getattr(discriminator, f"conv{i}") for i in range(discriminator.num_convs)]
    assert [(c.filters, c.strides[0]) for c in convs] == [(64, 2), (128, 2), (256, 2)]
    assert not discriminator.has_fc
    assert discriminator.d_head.kernel.shape == (4 * 4 * 256, 1)
    assert discriminator.q_fc.kernel.shape == (4 * 4 * 256, 128)
    assert generator(_latent(config, batch=2)).shape == (2, 32, 32, 3)
    body = {id(v) for v in discriminator.body_variables}
    q = {id(v) for v in discriminator.q_variables}
    head = {id(v) for v in discriminator.d_head.trainable_variables}
    assert body | q | head == {id(v) for v in discriminator.trainable_variables}


def test_body_q_and_d_head_variables_partition_the_discriminator(mnist_config):
    _, discriminator = models.build_models(mnist_config)
    body = {id(v) for v in discriminator.body_variables}
    q = {id(v) for v in discriminator.q_variables}
    d_head = {id(v) for v in discriminator.d_head.trainable_variables}
    assert body and q and d_head
    assert not (body & q) and not (body & d_head) and not (q & d_head)
    assert body | q | d_head == {id(v) for v in discriminator.trainable_variables}


@pytest.mark.parametrize("architecture, image_shape", [("mnist", (28, 28, 1)), ("svhn", (32, 32, 3))])
def test_one_pass_over_several_batches_equals_separate_calls(mnist_config, architecture, image_shape):
    # The training step runs D on real and fake images in one pass (faster); each batch must still be
    # batch-normalised on its own and the moving statistics updated batch after batch.
    config = dataclasses.replace(mnist_config, architecture=architecture, image_shape=image_shape, q_std="learned")
    _, separate = models.build_models(config)
    _, joint = models.build_models(config)
    joint.set_weights(separate.get_weights())
    real, fake = _images(config, batch=6, seed=1), 0.5 * _images(config, batch=6, seed=2)
    with tf.GradientTape(persistent=True) as tape:
        expected = [separate(real, training=True), separate(fake, training=True)]
        got = joint.on_batches([real, fake], training=True)
        loss_expected = sum(tf.reduce_sum(out["logit"]) + tf.reduce_sum(out["cat_logits"] ** 2) for out in expected)
        loss_got = sum(tf.reduce_sum(out["logit"]) + tf.reduce_sum(out["cat_logits"] ** 2) for out in got)
    for want, have in zip(expected, got, strict=True):
        assert sorted(want) == sorted(have)
        for name in want:
            np.testing.assert_allclose(have[name], want[name], rtol=1e-4, atol=1e-5, err_msg=name)
    grads_expected = tape.gradient(loss_expected, separate.trainable_variables)
    grads_got = tape.gradient(loss_got, joint.trainable_variables)
    assert _max_abs_diff(grads_expected, grads_got) < 1e-3
    moving = [v for v in separate.non_trainable_variables if "moving" in v.path]
    assert moving and _max_abs_diff(moving, [v for v in joint.non_trainable_variables if "moving" in v.path]) < 1e-5
    # One call on the concatenation normalises over both batches: a different function, which this test tells apart.
    assert not np.allclose(
        separate(tf.concat([real, fake], 0), training=True)["logit"][:6], expected[0]["logit"], atol=1e-4
    )


@pytest.mark.parametrize("categorical, continuous", [((), 2), ((10,), 0), ((3, 5), 0)])
def test_models_without_one_kind_of_code_train(mnist_config, categorical, continuous):
    config = dataclasses.replace(mnist_config, categorical=categorical, continuous=continuous)
    model = InfoGAN(config, tf.distribute.get_strategy())
    out = model.discriminator(model.generator(_latent(config), training=False), training=False)
    assert out["cat_logits"].shape == (4, sum(categorical))
    assert out["cont_mean"].shape == (4, continuous)
    metrics = model.replica_step(_images(config, batch=8), _latent(config, batch=8))
    assert set(metrics) == set(model.metric_names)
    assert set(metrics) == {"d_loss", "g_loss"} | {f"info_lb/{c}" for c in model.spec.code_names}
    assert all(np.isfinite(float(v)) for v in metrics.values())


def _info_gradients(config, info_weight):
    generator, discriminator = models.build_models(config)
    spec = LatentSpec.from_config(config)
    latent = _latent(config, batch=8)
    with tf.GradientTape() as tape:
        fake = generator(latent, training=True)
        out = discriminator(fake, training=True)
        bounds = losses.info_lower_bounds(out, latent, spec.categorical)
        info = tf.reduce_mean(losses.weighted_info_lower_bound(bounds, info_weight, info_weight))
    groups = {
        "generator": generator.trainable_variables,
        "body": discriminator.body_variables,
        "q": discriminator.q_variables,
        "d_head": discriminator.d_head.trainable_variables,
    }
    flat = [v for variables in groups.values() for v in variables]
    grads = iter(tape.gradient(info, flat))
    return {name: [next(grads) for _ in variables] for name, variables in groups.items()}


def test_info_gradient_reaches_generator_q_head_and_shared_body(mnist_config):
    grads = _info_gradients(mnist_config, info_weight=1.0)
    for group in ("generator", "body", "q"):
        assert all(g is not None for g in grads[group]), group
        assert max(float(tf.reduce_max(tf.abs(g))) for g in grads[group]) > 0, group
    # Every body variable (conv, BN, FC) carries the information term, not only the last layer.
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads["body"])
    # The real/fake head does not take part in Q(c|x).
    assert all(g is None for g in grads["d_head"])


def test_info_weights_scale_each_kind_of_codes_gradient_exactly(mnist_config):
    # G's gradient of lambda_cat * L_I(cat) + lambda_cont * L_I(cont) is the same combination of the
    # two bounds' own gradients: lambda = 0 removes a kind of code, and neither lambda is ignored,
    # swapped or applied to the other kind.
    generator, discriminator = models.build_models(mnist_config)
    spec = LatentSpec.from_config(mnist_config)
    latent = _latent(mnist_config, batch=8)

    def generator_gradient(objective):
        with tf.GradientTape() as tape:
            out = discriminator(generator(latent, training=True), training=True)
            value = objective(losses.info_lower_bounds(out, latent, spec.categorical))
        gradients = tape.gradient(value, generator.trainable_variables)
        return np.concatenate([tf.reshape(g, [-1]).numpy() for g in gradients])

    cat = generator_gradient(lambda bounds: tf.reduce_mean(bounds["cat0"]))
    cont = generator_gradient(lambda bounds: tf.reduce_mean(bounds["cont0"] + bounds["cont1"]))
    scale = max(np.abs(cat).max(), np.abs(cont).max())
    assert np.abs(cat).max() > 1e-6 and np.abs(cont).max() > 1e-6
    assert np.abs(cat - cont).max() > 0.1 * scale  # the two kinds of code pull G differently
    for weights in [(0.0, 0.0), (1.0, 0.0), (0.0, 0.1), (0.5, 2.0)]:
        got = generator_gradient(
            lambda bounds, weights=weights: tf.reduce_mean(losses.weighted_info_lower_bound(bounds, *weights))
        )
        expected = weights[0] * cat + weights[1] * cont
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * scale, err_msg=str(weights))
        if weights == (0.0, 0.0):
            assert not np.any(got)


def _step_pair(config, copy_weights, freeze_discriminator=False):
    """One real training step from identical weights and data, with lambda = 1 and lambda = 0."""
    strategy = tf.distribute.get_strategy()
    with_info = InfoGAN(dataclasses.replace(config, info_weight_cat=1.0, info_weight_cont=1.0), strategy)
    without = InfoGAN(dataclasses.replace(config, info_weight_cat=0.0, info_weight_cont=0.0), strategy)
    copy_weights(with_info.generator, without.generator)
    copy_weights(with_info.discriminator, without.discriminator)
    images, latent = _images(config, batch=config.batch_size), _latent(config, batch=config.batch_size)
    for model in (with_info, without):
        # Both optimisers are fresh Adam instances (zero slots, iteration 0), so they start equal too.
        assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 0
        if freeze_discriminator:
            model.d_optimizer.learning_rate.assign(0.0)
        model.replica_step(images, latent)
    return with_info, without


def test_training_step_sends_info_term_to_generator_q_head_and_shared_body(mnist_config, copy_weights):
    a, b = _step_pair(mnist_config, copy_weights)
    # Adam's first step moves each weight by about lr * sign(grad): a different gradient shows
    # up as differences of the order of the learning rate.
    assert _max_abs_diff(a.discriminator.body_variables, b.discriminator.body_variables) > 1e-5
    # The lambda = 0 baseline still trains Q with unit weight on the same features (docs/contract.md), so the
    # Q head's own update is the same either way: lambda only decides what reaches the body and G.
    # The same up to float rounding: the baseline runs Q on the fake features alone, the step on real
    # and fake together, and Adam's first step turns rounding in a near-zero gradient into up to
    # ~1e-6 (measured 7.7e-7); a real difference moves a weight by about lr_d = 2e-4.
    assert _max_abs_diff(a.discriminator.q_variables, b.discriminator.q_variables) < 1e-5
    assert _max_abs_diff(a.generator.trainable_variables, b.generator.trainable_variables) > 1e-5
    # D's real/fake head never sees L_I and its inputs were equal in the D step, so its update is too.
    assert _max_abs_diff(a.discriminator.d_head.trainable_variables, b.discriminator.d_head.trainable_variables) < 1e-7


def test_training_step_sends_info_term_to_generator_directly(mnist_config, copy_weights):
    # With D/Q frozen (learning rate 0) G's update can only differ through lambda * L_I itself,
    # not through a D that moved differently.
    a, b = _step_pair(mnist_config, copy_weights, freeze_discriminator=True)
    assert _max_abs_diff(a.discriminator.trainable_variables, b.discriminator.trainable_variables) == 0.0
    assert _max_abs_diff(a.generator.trainable_variables, b.generator.trainable_variables) > 1e-5


def test_regular_gan_baseline_still_trains_q(mnist_config):
    config = dataclasses.replace(mnist_config, info_weight_cat=0.0, info_weight_cont=0.0)
    model = InfoGAN(config, tf.distribute.get_strategy())
    before = [v.numpy().copy() for v in model.discriminator.q_variables]
    model.replica_step(_images(config, batch=8), _latent(config, batch=8))
    q_update = _max_abs_diff(model.discriminator.q_variables, before)
    assert q_update > 0


@pytest.mark.parametrize(
    "architecture, image_shape", [("mnist", (28, 28, 1)), ("svhn", (32, 32, 3)), ("dcgan64", (64, 64, 1))]
)
def test_checkpoint_of_models_alone_restores_every_variable(mnist_config, tmp_path, architecture, image_shape):
    # Export and evaluation restore G and D without the optimisers: every variable (BN moving
    # statistics included) must come back through the models' own paths.
    config = dataclasses.replace(mnist_config, architecture=architecture, image_shape=image_shape)
    generator, discriminator = models.build_models(config)
    for variable in generator.variables + discriminator.variables:
        variable.assign(tf.random.stateless_uniform(variable.shape, [7, len(variable.path)], dtype=variable.dtype))
    path = tf.train.Checkpoint(generator=generator, discriminator=discriminator).save(str(tmp_path / "ckpt"))
    fresh_g, fresh_d = models.build_models(config)
    tf.train.Checkpoint(generator=fresh_g, discriminator=fresh_d).restore(path).assert_consumed()
    for saved, restored in zip(
        generator.variables + discriminator.variables, fresh_g.variables + fresh_d.variables, strict=True
    ):
        assert saved.path == restored.path
        np.testing.assert_array_equal(saved.numpy(), restored.numpy(), err_msg=saved.path)


@pytest.mark.parametrize("bn_statistics, updates", [("real", 1), ("all", 3)])
def test_bn_moving_statistics_follow_real_batches(mnist_config, bn_statistics, updates):
    # One step from zero moving means: with "real" each moving mean is (1 - momentum) times the real
    # batch's mean before the update; with "all" the fake batches of the D and G passes move it too.
    config = dataclasses.replace(mnist_config, bn_statistics=bn_statistics)
    model = InfoGAN(config, tf.distribute.get_strategy())
    discriminator = model.discriminator
    images = _images(config, batch=8, seed=3)
    pre_bn = discriminator.conv1(tf.nn.leaky_relu(discriminator.conv0(images), models.LEAKY_SLOPE))
    real_mean = tf.reduce_mean(pre_bn, axis=[0, 1, 2]).numpy()
    for layer in (discriminator.conv_bn1, discriminator.fc_bn, discriminator.q_bn):
        layer.moving_mean.assign(tf.zeros_like(layer.moving_mean))
    model.replica_step(images, _latent(config, batch=8))
    moving = discriminator.conv_bn1.moving_mean.numpy()
    only_real = (1 - models.BN_MOMENTUM) * real_mean
    if updates == 1:
        np.testing.assert_allclose(moving, only_real, rtol=1e-4, atol=1e-6)
        assert np.all(discriminator.q_bn.moving_mean.numpy() != 0)  # Q's BN learns from the real batch too
    else:
        assert np.max(np.abs(moving - only_real)) > 1e-3


def test_batch_norm_without_update_normalises_as_in_training():
    layer = models.BatchNormalization(momentum=0.9)
    x = tf.random.stateless_normal([16, 5], [1, 2]) * 3.0 + 2.0
    updated = layer(x, training=True)
    moving = layer.moving_mean.numpy().copy()
    frozen = layer(x + 5.0, training=True, update_statistics=False)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), moving)
    np.testing.assert_allclose(frozen.numpy(), updated.numpy(), atol=1e-5)  # a shifted batch normalises alike
    np.testing.assert_allclose(layer(x + 5.0, training=True).numpy(), frozen.numpy(), atol=1e-6)
    assert np.max(np.abs(layer.moving_mean.numpy() - moving)) > 0.1


def test_dcgan_weight_init_draws_kernels_from_normal_002(mnist_config):
    keras_g, _ = models.build_models(mnist_config)
    dcgan_g, dcgan_d = models.build_models(dataclasses.replace(mnist_config, weight_init="dcgan"))
    # G's FC1024 over 74 inputs: Glorot uniform has std sqrt(2 / 1098) = 0.043, DCGAN's 0.02.
    assert np.std(dcgan_g.fc1.kernel.numpy()) == pytest.approx(0.02, rel=0.03)
    assert np.std(keras_g.fc1.kernel.numpy()) == pytest.approx((2 / 1098) ** 0.5, rel=0.03)
    for layer in (dcgan_g.to_image, dcgan_d.conv0, dcgan_d.fc, dcgan_d.q_head):
        assert np.std(layer.kernel.numpy()) == pytest.approx(0.02, rel=0.1), layer.name


@pytest.mark.parametrize("preset, architecture_has_bn", [("", True), ("infogan_cr", False)])
def test_d_batch_norm_overrides_the_architectures_choice(preset, architecture_has_bn):
    """--d_batch_norm: unset keeps the architecture's D (BN for dcgan64, none for InfoGAN-CR's);
    off leaves no BN and a Q whose reading of an image does not depend on the rest of the batch."""
    base = config_lib.resolve("shapes", {}, preset)
    images = _images(base, batch=6)
    for setting in (None, True, False):
        # Without spectral norm, whose power iteration would change the kernels between the calls below.
        config = dataclasses.replace(base, d_batch_norm=setting, spectral_norm=False)
        _, discriminator = models.build_models(config)
        has_bn = architecture_has_bn if setting is None else setting
        bn_layers = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.BatchNormalization)]
        # dcgan64: two of the three convs, the shared FC and Q's FC; infogan_cr: three of four convs, FC, Q's FC.
        assert len(bn_layers) == ((4 if preset == "" else 5) if has_bn else 0)
        body = {v.path for v in discriminator.body_variables}
        assert any("bn" in path for path in body) == has_bn
        # Training mode normalises with the batch's own moments: the first image's Q outputs change
        # with the images beside it exactly when there is BN.
        alone = discriminator(images[:1], training=True)["cont_mean"]
        in_batch = discriminator(images, training=True)["cont_mean"][:1]
        differ = float(np.max(np.abs(_numpy(alone) - _numpy(in_batch))))
        assert (differ > 1e-3) if has_bn else (differ < 1e-5), (setting, differ)
    # The checkpoint's variables differ, so a workdir of one does not resume as the other.
    assert dataclasses.replace(base, d_batch_norm=False).latent_fields != base.latent_fields


def test_noise_scale_scales_z_inside_the_generator(mnist_config):
    # G with --noise_scale=s on z draws what the same weights draw at scale 1 on s * z: z keeps its
    # Unif(-1, 1) everywhere it is drawn or served, only G's reading of it changes.
    scaled, _ = models.build_models(dataclasses.replace(mnist_config, noise_scale=0.25))
    plain, _ = models.build_models(mnist_config)
    plain.set_weights(scaled.get_weights())
    latent = _latent(mnist_config, batch=4)
    shrunk = dict(latent, z=0.25 * latent["z"])
    np.testing.assert_allclose(scaled(latent), plain(shrunk), atol=1e-6)
    assert not np.allclose(scaled(latent), plain(latent), atol=1e-3)


@pytest.mark.parametrize("architecture, slope", [("mnist", None), ("mnist", 0.01), ("infogan_cr", None)])
def test_leaky_slope_sets_d_and_q_activations(mnist_config, architecture, slope):
    shape = (64, 64, 1) if architecture == "infogan_cr" else (28, 28, 1)
    config = dataclasses.replace(mnist_config, architecture=architecture, image_shape=shape, leaky_slope=slope)
    _, discriminator = models.build_models(config)
    assert discriminator.slope == {None: {"mnist": 0.1, "infogan_cr": 0.2}[architecture], 0.01: 0.01}[slope]
    # The slope reaches the layers: D's logit moves with it on the same weights.
    _, other = models.build_models(dataclasses.replace(config, leaky_slope=0.3))
    other.set_weights(discriminator.get_weights())
    images = _images(config, batch=4)
    assert not np.allclose(discriminator(images)["logit"], other(images)["logit"], atol=1e-5)


def _twin_models(config, other, copy):
    first, second = InfoGAN(config, tf.distribute.get_strategy()), InfoGAN(other, tf.distribute.get_strategy())
    copy(first.generator, second.generator)
    copy(first.discriminator, second.discriminator)
    return first, second


def test_q_optimizer_g_trains_q_with_g_and_the_body_on_the_gan_loss_alone(mnist_config, copy_weights):
    with_g = dataclasses.replace(mnist_config, q_optimizer="g")
    model, baseline = _twin_models(
        with_g, dataclasses.replace(mnist_config, info_weight_cat=0.0, info_weight_cont=0.0), copy_weights
    )
    q_ids = {id(v) for v in model.discriminator.q_variables}
    assert {id(v) for v in model.g_variables} == q_ids | {id(v) for v in model.generator.trainable_variables}
    assert not q_ids & {id(v) for v in model.d_variables}
    assert len(model.d_variables) + len(q_ids) == len(model.discriminator.trainable_variables)
    before = [v.numpy() for v in model.discriminator.q_variables]
    images, latent = _images(mnist_config, batch=8), _latent(mnist_config, batch=8)
    model.replica_step(images, latent)
    baseline.replica_step(images, latent)
    # D's update saw no information term: the body and D head move exactly as in the lambda = 0 run's,
    # whose body is blocked from L_I.
    for name in ("body_variables",):
        for mine, theirs in zip(getattr(model.discriminator, name), getattr(baseline.discriminator, name), strict=True):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-6, err_msg=mine.path)
    for mine, theirs in zip(model.discriminator.d_head.weights, baseline.discriminator.d_head.weights, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-6)
    # Q's layers moved, with G's optimiser (whose slots now hold them) at --lr_g's first Adam step.
    moved = [np.abs(v.numpy() - b).max() for v, b in zip(model.discriminator.q_variables, before, strict=True)]
    assert min(moved) > 0 and max(moved) == pytest.approx(mnist_config.lr_g, rel=1e-3)


def test_fresh_g_latents_give_g_its_own_latents(mnist_config, copy_weights):
    fresh = dataclasses.replace(mnist_config, fresh_g_latents=True)
    images, latent, other = _images(mnist_config, batch=8), _latent(mnist_config, batch=8), _latent(mnist_config, 8, 5)
    results, source = [], InfoGAN(mnist_config, tf.distribute.get_strategy())
    for g_latent in (None, latent, other):
        model = InfoGAN(fresh, tf.distribute.get_strategy())
        copy_weights(source.generator, model.generator)
        copy_weights(source.discriminator, model.discriminator)
        model.replica_step(images, latent, None, g_latent)
        results.append(np.concatenate([v.numpy().ravel() for v in model.generator.trainable_variables]))
    # G's update on the D update's own latents (made again) is the step without fresh latents; on others it is not.
    np.testing.assert_allclose(results[1], results[0], atol=1e-6)
    assert np.abs(results[2] - results[0]).max() > 1e-4
    # The training loop draws them: one more latent batch from the run's RNG per step.
    model = InfoGAN(dataclasses.replace(fresh, jit_compile=False), tf.distribute.get_strategy())
    plain = InfoGAN(mnist_config, tf.distribute.get_strategy())
    for m in (model, plain):
        m._sample_and_step(images, ())
    assert not np.array_equal(model.rng.state.numpy(), plain.rng.state.numpy())

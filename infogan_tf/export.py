"""Export: a TF-Serving-ready SavedModel (generate, generate_from_seed, encode) and TFLite generators.

The SavedModel is written with `keras.export.ExportArchive` (a plain `tf.Module` around Keras 3
models breaks TF Serving's TF1 loader and converts to a wrong TFLite file; docs/contract.md). Layout:

    E/<N>/                          the SavedModel, N = next integer by default
    E/<N>/assets/latent_spec.json   what the inputs mean
    E/<N>/assets.extra/tf_serving_warmup_requests   TF Serving's warm-up records (below)
    E/tflite/generator*.tflite      `serving_default` for LiteRT, + latent_spec.json

A version is written to a hidden temporary sibling and renamed into place, so TF Serving, which
polls E, never sees a half-written version. The warm-up file is a TFRecord of `PredictionLog`s
(`tensorflow-serving-api`'s protos): one predict request per signature at batch sizes 1 and 64, which
TF Serving replays when it loads the version, so the first client request is served warm. Every
TFLite file is checked against the SavedModel right after conversion; a mismatch fails the export.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from infogan_tf import config as config_lib
from infogan_tf.config import ConfigError
from infogan_tf.latent import LatentSpec
from infogan_tf.models import build_models

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_BATCHES = (1, 64)
# The model name in the warm-up requests' model_spec (TF Serving's warm-up ignores it; the explorer's
# and the docs' default --model_name / MODEL_NAME).
MODEL_NAME = "infogan"
MAX_NUM = 1024  # cap on `generate_from_seed`'s num: one request cannot ask for unbounded memory.
# --quantize name -> (file, statistic of |TFLite - SavedModel| over the images' pixels, its tolerance).
# int8 weights move a few saturated pixels a lot (max ~0.6 on the README run's model) while the mean
# stays ~4e-4 and 0.03 % of pixels change side of 0.5 (BUILD_NOTES.md): its bound is on the mean.
TFLITE_VARIANTS = {
    "none": ("generator.tflite", "max", 1e-5),
    "float16": ("generator_float16.tflite", "max", 2e-2),
    "dynamic_int8": ("generator_dynamic_int8.tflite", "mean", 5e-3),
}


def restore(workdir: str, checkpoint: str | None = None):
    """(config, generator, discriminator, checkpoint path) from a training workdir."""
    config = config_lib.read_workdir_config(workdir)
    if config is None:
        raise ConfigError(f"--workdir={workdir} has no config.json; point it at a training run's workdir.")
    checkpoint = checkpoint or tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    if not checkpoint:
        raise ConfigError(f"--workdir={workdir} has no checkpoint yet; train first (python train.py --workdir=...).")
    generator, discriminator = build_models(config)
    try:
        status = tf.train.Checkpoint(generator=generator, discriminator=discriminator).read(checkpoint)
        status.assert_existing_objects_matched().expect_partial()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        first_line = str(error).strip().splitlines()[0][:300]
        raise ConfigError(
            f"--checkpoint={checkpoint} does not fit the model in {workdir}/config.json ({first_line}); "
            "use a checkpoint of this workdir."
        ) from None
    return config, generator, discriminator, checkpoint


def latent_spec_json(config, spec: LatentSpec) -> dict:
    return {
        "noise_dim": spec.noise_dim,
        "noise_range": [-1.0, 1.0],
        "categorical": list(spec.categorical),
        "continuous": spec.continuous,
        "continuous_range": [-1.0, 1.0],
        "traversal_range": [-2.0, 2.0],
        "image_shape": list(config.image_shape),
        "architecture": config.architecture,
        "dataset": config.dataset,
        "max_num": MAX_NUM,
        "signatures": ["serving_default", "generate_from_seed", "encode"],
    }


def _latent_specs(spec: LatentSpec) -> list[tf.TensorSpec]:
    """`serving_default`'s inputs: the latent batch without the kinds of input the model lacks."""
    return [tensor for tensor in spec.tensor_specs().values() if tensor.shape[1]]


def _full_latent(spec: LatentSpec, latent: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The latent dict G takes, with zero-width tensors for the kinds of input the model lacks."""
    batch = tf.shape(next(iter(latent.values())))[0]
    return {
        "z": latent.get("z", tf.zeros([batch, 0])),
        "categorical": latent.get("categorical", tf.zeros([batch, 0], tf.int32)),
        "continuous": latent.get("continuous", tf.zeros([batch, 0])),
    }


def _check_latent(spec: LatentSpec, latent: dict[str, tf.Tensor]) -> list[tf.Operation]:
    """Graph-side validation: one batch size, finite floats, categories in [0, K)."""
    checks, batch = [], None
    widths = {"z": spec.noise_dim, "categorical": len(spec.categorical), "continuous": spec.continuous}
    for name, value in latent.items():
        width = f"{name} must have {widths[name]} columns"
        checks.append(tf.debugging.assert_equal(tf.shape(value)[1], widths[name], message=width))
        size = tf.shape(value)[0]
        if batch is None:
            batch = size
        else:
            checks.append(
                tf.debugging.assert_equal(size, batch, message=f"{name}: batch size differs from the other inputs")
            )
        if value.dtype.is_floating:
            checks.append(tf.debugging.assert_all_finite(value, message=f"{name} has NaN or Inf values"))
    if "categorical" in latent:
        ks = tf.constant(spec.categorical, tf.int32)
        checks.append(tf.debugging.assert_non_negative(latent["categorical"], message="categorical index below 0"))
        checks.append(
            tf.debugging.assert_less(
                latent["categorical"], ks[None, :], message=f"categorical index not below K = {list(spec.categorical)}"
            )
        )
    return checks


def _images_out(images: tf.Tensor) -> dict[str, tf.Tensor]:
    images = tf.cast(images, tf.float32)
    return {"images": images, "images_uint8": tf.cast(tf.round(images * 255.0), tf.uint8)}


def build_archive(generator, discriminator, config) -> keras.export.ExportArchive:
    """The three public signatures (docs/contract.md) over G and D/Q, in inference mode."""
    spec = LatentSpec.from_config(config)
    names = [s.name for s in _latent_specs(spec)]
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.track(discriminator)

    def serving_default(*inputs):
        latent = dict(zip(names, inputs, strict=True))
        with tf.control_dependencies(_check_latent(spec, latent)):
            return _images_out(generator(_full_latent(spec, latent), training=False))

    def generate_from_seed(seed, num):
        with tf.control_dependencies(
            [
                tf.debugging.assert_positive(num, message="num must be at least 1"),
                tf.debugging.assert_less_equal(num, MAX_NUM, message=f"num must be at most {MAX_NUM}"),
            ]
        ):
            num = tf.identity(num)
        # Stateless RNG: the same seed gives the same latents (and images) in any process.
        key = lambda i: tf.stack([seed, tf.constant(i, tf.int64)])  # noqa: E731
        latent = {"z": tf.random.stateless_uniform([num, spec.noise_dim], key(0), -1.0, 1.0)}
        columns = [
            tf.random.stateless_uniform([num], key(1 + i), 0, k, dtype=tf.int32) for i, k in enumerate(spec.categorical)
        ]
        latent["categorical"] = tf.stack(columns, axis=1) if columns else tf.zeros([num, 0], tf.int32)
        latent["continuous"] = tf.random.stateless_uniform([num, spec.continuous], key(100), -1.0, 1.0)
        out = _images_out(generator(latent, training=False))
        out.update({name: latent[name] for name in names})
        return out

    def encode(images):
        with tf.control_dependencies(
            [
                tf.debugging.assert_all_finite(images, message="images have NaN or Inf values"),
                tf.debugging.assert_greater_equal(images, 0.0, message="images must lie in [0, 1]"),
                tf.debugging.assert_less_equal(images, 1.0, message="images must lie in [0, 1]"),
            ]
        ):
            images = tf.identity(images)
        q = discriminator(images, training=False)
        out = {"real_prob": tf.sigmoid(tf.cast(q["logit"], tf.float32))}
        logits, start, argmax = tf.cast(q["cat_logits"], tf.float32), 0, []
        for i, k in enumerate(spec.categorical):
            out[f"categorical_probs_{i}"] = tf.nn.softmax(logits[:, start : start + k])
            argmax.append(tf.argmax(logits[:, start : start + k], axis=-1, output_type=tf.int32))
            start += k
        if argmax:
            out["categorical"] = tf.stack(argmax, axis=1)
        if spec.continuous:
            out["continuous"] = tf.cast(q["cont_mean"], tf.float32)
        return out

    archive.add_endpoint("serving_default", serving_default, input_signature=_latent_specs(spec))
    archive.add_endpoint(
        "generate_from_seed",
        generate_from_seed,
        input_signature=[tf.TensorSpec([], tf.int64, name="seed"), tf.TensorSpec([], tf.int32, name="num")],
    )
    archive.add_endpoint(
        "encode", encode, input_signature=[tf.TensorSpec([None, *config.image_shape], tf.float32, name="images")]
    )
    return archive


def _next_version(export_dir: str) -> int:
    versions = [int(name) for name in os.listdir(export_dir) if name.isdigit()] if os.path.isdir(export_dir) else []
    return max(versions, default=0) + 1


def sample_inputs(spec: LatentSpec, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random `serving_default` inputs (continuous codes over the traversal range -2..2)."""
    rng = np.random.default_rng(seed)
    inputs = {}
    if spec.noise_dim:
        inputs["z"] = rng.uniform(-1, 1, (batch, spec.noise_dim)).astype(np.float32)
    if spec.categorical:
        inputs["categorical"] = np.stack([rng.integers(0, k, batch) for k in spec.categorical], 1).astype(np.int32)
    if spec.continuous:
        inputs["continuous"] = rng.uniform(-2, 2, (batch, spec.continuous)).astype(np.float32)
    return inputs


def warmup_requests(config, batches=WARMUP_BATCHES) -> list[prediction_log_pb2.PredictionLog]:
    """One `PredictionLog` per signature and batch size: what TF Serving runs before it serves."""
    spec = LatentSpec.from_config(config)
    logs = []
    for batch in batches:
        images = np.random.default_rng(batch).uniform(0, 1, (batch, *config.image_shape)).astype(np.float32)
        feeds = {
            "serving_default": sample_inputs(spec, batch, seed=batch),
            "generate_from_seed": {"seed": np.int64(batch), "num": np.int32(batch)},
            "encode": {"images": images},
        }
        for signature, inputs in feeds.items():
            request = predict_pb2.PredictRequest()
            request.model_spec.name = MODEL_NAME
            request.model_spec.signature_name = signature
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            logs.append(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request)))
    return logs


def write_warmup(saved_model_dir: str, logs) -> str:
    """Writes `logs` as `assets.extra/tf_serving_warmup_requests` of a SavedModel; returns its path."""
    path = os.path.join(saved_model_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


def read_warmup(saved_model_dir: str) -> list[prediction_log_pb2.PredictionLog]:
    """The warm-up records of a SavedModel version ([] if it has none)."""
    path = os.path.join(saved_model_dir, WARMUP_FILE)
    if not os.path.exists(path):
        return []
    return [prediction_log_pb2.PredictionLog.FromString(record.numpy()) for record in tf.data.TFRecordDataset(path)]


def run_request(signatures, request: predict_pb2.PredictRequest) -> dict[str, np.ndarray]:
    """Runs a `PredictRequest` on loaded SavedModel signatures as TF Serving does; returns the outputs."""
    function = signatures[request.model_spec.signature_name or "serving_default"]
    inputs = {key: tf.constant(tf.make_ndarray(value)) for key, value in request.inputs.items()}
    return {key: value.numpy() for key, value in function(**inputs).items()}


def convert_tflite(saved_model_dir: str, quantize: str) -> bytes:
    """`serving_default` of the SavedModel as a TFLite flatbuffer (fp32, float16 or dynamic-range int8)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=["serving_default"])
    if quantize in ("float16", "dynamic_int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def tflite_difference(model_path: str, serving_default, spec: LatentSpec, batch: int = 16) -> dict:
    """Max and mean abs difference of `images` between LiteRT running the file and the SavedModel's
    loaded `serving_default` signature."""
    from ai_edge_litert.interpreter import Interpreter

    inputs = sample_inputs(spec, batch)
    runner = Interpreter(model_path=model_path).get_signature_runner("serving_default")
    lite = runner(**inputs)["images"]
    reference = serving_default(**inputs)["images"].numpy()
    difference = np.abs(lite - reference)
    return {"max": float(difference.max()), "mean": float(difference.mean())}


def export(
    workdir: str,
    export_dir: str | None = None,
    version: int | None = None,
    checkpoint: str | None = None,
    overwrite: bool = False,
    tflite: bool = True,
    quantize: tuple[str, ...] = ("none", "float16", "dynamic_int8"),
) -> dict:
    """Writes E/<N>/ (and E/tflite/); returns what was written and the parity measured."""
    for name in quantize:
        if name not in TFLITE_VARIANTS:
            raise ConfigError(f"--quantize={name!r} is not one of {', '.join(TFLITE_VARIANTS)}.")
    config, generator, discriminator, checkpoint = restore(workdir, checkpoint)
    export_dir = export_dir or os.path.join(workdir, "export")
    try:
        os.makedirs(export_dir, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=export_dir, prefix=".write-test-")
        probe.close()
    except OSError as error:
        raise ConfigError(f"--export_dir={export_dir} is not writable ({error.strerror}).") from None
    version = _next_version(export_dir) if version is None else version
    if version < 1:
        raise ConfigError(f"--version={version} must be a positive integer (TF Serving's version numbers).")
    final = os.path.join(export_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise ConfigError(f"{final} already exists; pass --overwrite=true or another --version.")

    spec = LatentSpec.from_config(config)
    staging = tempfile.mkdtemp(dir=export_dir, prefix=f".tmp-{version}-")
    try:
        saved_model = os.path.join(staging, "model")
        build_archive(generator, discriminator, config).write_out(saved_model, verbose=False)
        os.makedirs(os.path.join(saved_model, "assets"), exist_ok=True)
        with open(os.path.join(saved_model, "assets", "latent_spec.json"), "w") as f:
            json.dump(latent_spec_json(config, spec), f, indent=2)
        write_warmup(saved_model, warmup_requests(config))
        result = {
            "saved_model": final,
            "checkpoint": checkpoint,
            "tflite": {},
            "warmup": os.path.join(final, WARMUP_FILE),
        }
        if tflite:
            lite_dir = os.path.join(staging, "tflite")
            os.makedirs(lite_dir)
            shutil.copy(os.path.join(saved_model, "assets", "latent_spec.json"), lite_dir)
            serving_default = tf.saved_model.load(saved_model).signatures["serving_default"]
            for name in quantize:
                filename, statistic, tolerance = TFLITE_VARIANTS[name]
                path = os.path.join(lite_dir, filename)
                with open(path, "wb") as f:
                    f.write(convert_tflite(saved_model, name))
                difference = tflite_difference(path, serving_default, spec)
                if not difference[statistic] <= tolerance:
                    raise RuntimeError(
                        f"{filename} differs from the SavedModel by {difference[statistic]:.3g} ({statistic} abs, "
                        f"tolerance {tolerance:g}); the export is not written."
                    )
                result["tflite"][filename] = {**difference, "bytes": os.path.getsize(path)}
        # Into place: the numbered version by one rename (what TF Serving polls), then the TFLite files.
        if os.path.exists(final):
            old = tempfile.mkdtemp(dir=export_dir, prefix=f".old-{version}-")
            os.rename(final, os.path.join(old, "v"))
            os.rename(saved_model, final)
            shutil.rmtree(old)
        else:
            os.rename(saved_model, final)
        if tflite:
            lite_final = os.path.join(export_dir, "tflite")
            if os.path.exists(lite_final):
                shutil.rmtree(lite_final)
            os.rename(os.path.join(staging, "tflite"), lite_final)
            result["tflite_dir"] = lite_final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result

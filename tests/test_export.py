"""export.py: the SavedModel's signatures against the Keras models in a process without infogan_tf, TF
Serving's TF1 loader, TFLite on LiteRT without TensorFlow, versioning, validation and bad inputs."""

import concurrent.futures
import dataclasses
import errno
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2, prediction_service_pb2_grpc

from infogan_tf import config as config_lib
from infogan_tf import explore, export
from infogan_tf.config import ConfigError
from infogan_tf.latent import LatentSpec
from infogan_tf.models import build_models
from infogan_tf.train import train_and_evaluate


@pytest.fixture(scope="module")
def run(tmp_path_factory, shapes_config):
    """A 2-step shapes run (Cat(3) + 4 continuous + noise) exported once: (workdir, export result, config)."""
    workdir = str(tmp_path_factory.mktemp("export") / "run")
    config = dataclasses.replace(shapes_config, steps=2, log_every=1)
    train_and_evaluate(config, workdir)
    return workdir, export.export(workdir), config


def _inputs(config, batch=5):
    return export.sample_inputs(LatentSpec.from_config(config), batch, seed=7)


def _keras_reference(workdir, inputs, images):
    _, generator, discriminator, _ = export.restore(workdir)
    latent = {k: tf.constant(v) for k, v in inputs.items()}
    q = discriminator(tf.constant(images), training=False)
    return generator(latent, training=False).numpy(), q


def _run_python(script: str, *args) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_layout_versions_and_latent_spec(run, tmp_path):
    workdir, result, config = run
    export_dir = os.path.join(workdir, "export")
    assert result["saved_model"] == os.path.join(export_dir, "1")
    assert sorted(os.listdir(export_dir)) == ["1", "tflite"]  # no temporary directory left behind
    with open(os.path.join(export_dir, "1", "assets", "latent_spec.json")) as f:
        spec = json.load(f)
    assert spec["noise_dim"] == 8 and spec["categorical"] == [3] and spec["continuous"] == 4
    assert spec["image_shape"] == [64, 64, 1] and spec["dataset"] == "shapes"
    assert sorted(os.listdir(os.path.join(export_dir, "tflite"))) == [
        "generator.tflite",
        "generator_dynamic_int8.tflite",
        "generator_float16.tflite",
        "latent_spec.json",
    ]

    other = str(tmp_path / "serving")
    assert export.export(workdir, other, tflite=False)["saved_model"] == os.path.join(other, "1")
    assert export.export(workdir, other, tflite=False)["saved_model"] == os.path.join(other, "2")
    with pytest.raises(ConfigError, match="2 already exists; pass --overwrite=true or another --version"):
        export.export(workdir, other, version=2, tflite=False)
    export.export(workdir, other, version=2, tflite=False, overwrite=True)
    assert sorted(os.listdir(other)) == ["1", "2"]


def test_fresh_process_without_the_package_matches_keras_and_tf1_loader_runs_all(run, tmp_path):
    workdir, result, config = run
    inputs = _inputs(config)
    images = np.random.default_rng(1).uniform(0, 1, (5, 64, 64, 1)).astype(np.float32)
    np.savez(tmp_path / "inputs.npz", images=images, **inputs)
    script = """
        import sys
        sys.modules["infogan_tf"] = None  # this process cannot import the package
        try:
            import infogan_tf  # noqa: F401
            raise SystemExit("infogan_tf importable")
        except ImportError:
            pass
        import numpy as np
        import tensorflow as tf

        path, data, out = sys.argv[1:4]
        inputs = dict(np.load(data))
        images = inputs.pop("images")
        model = tf.saved_model.load(path)
        results = {}
        for key, value in model.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()}).items():
            results["serve/" + key] = value.numpy()
        seeded = model.signatures["generate_from_seed"](seed=tf.constant(42, tf.int64), num=tf.constant(3))
        results.update({"seed/" + k: v.numpy() for k, v in seeded.items()})
        encoded = model.signatures["encode"](images=tf.constant(images))
        results.update({"encode/" + k: v.numpy() for k, v in encoded.items()})

        # TF Serving's path: the TF1 session loader, feeding and fetching by the signature's tensor names.
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            feeds = {
                "serving_default": inputs,
                "generate_from_seed": {"seed": np.int64(42), "num": np.int32(3)},
                "encode": {"images": images},
            }
            for name, feed in feeds.items():
                signature = meta.signature_def[name]
                fetched = sess.run(
                    {k: v.name for k, v in signature.outputs.items()},
                    {signature.inputs[k].name: v for k, v in feed.items()},
                )
                results.update({"tf1_" + name + "/" + k: v for k, v in fetched.items()})
        np.savez(out, **results)
    """
    _run_python(script, result["saved_model"], str(tmp_path / "inputs.npz"), str(tmp_path / "out.npz"))
    out = dict(np.load(tmp_path / "out.npz"))

    expected_images, q = _keras_reference(workdir, inputs, images)
    np.testing.assert_allclose(out["serve/images"], expected_images, atol=1e-5)
    np.testing.assert_array_equal(out["serve/images_uint8"], np.round(out["serve/images"] * 255).astype(np.uint8))
    np.testing.assert_allclose(out["encode/real_prob"], tf.sigmoid(q["logit"]).numpy(), atol=1e-5)
    np.testing.assert_allclose(out["encode/categorical_probs_0"], tf.nn.softmax(q["cat_logits"]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(out["encode/categorical"][:, 0], np.argmax(q["cat_logits"].numpy(), -1))
    np.testing.assert_allclose(out["encode/continuous"], q["cont_mean"].numpy(), atol=1e-5)
    # generate_from_seed: its latents through Keras give its images; the same seed here gives the same.
    seeded = {k: out[f"seed/{k}"] for k in ("z", "categorical", "continuous")}
    assert [seeded[k].shape for k in ("z", "categorical", "continuous")] == [(3, 8), (3, 1), (3, 4)]
    np.testing.assert_allclose(out["seed/images"], _keras_reference(workdir, seeded, images)[0], atol=1e-5)
    here = tf.saved_model.load(result["saved_model"]).signatures["generate_from_seed"](
        seed=tf.constant(42, tf.int64), num=tf.constant(3)
    )
    np.testing.assert_array_equal(here["images"].numpy(), out["seed/images"])
    # The TF1 session loader gives what TF2 gives, for all three signatures.
    for tf2, tf1 in [("serve", "serving_default"), ("seed", "generate_from_seed"), ("encode", "encode")]:
        keys = [k for k in out if k.startswith(tf2 + "/")]
        assert keys
        for key in keys:
            np.testing.assert_allclose(out[f"tf1_{tf1}/" + key.split("/", 1)[1]], out[key], atol=1e-6)


def test_saved_model_cli_lists_named_inputs(run):
    _, result, _ = run
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--dir", result["saved_model"], "--all"], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    for name in ("serving_default", "generate_from_seed", "encode"):
        assert f"signature_def['{name}']" in shown.stdout
    for name in ("z", "categorical", "continuous", "seed", "num", "images"):
        assert f"inputs['{name}']" in shown.stdout


def test_warmup_records_parse_with_tf_servings_protos_and_every_request_runs(run):
    workdir, result, config = run
    path = os.path.join(result["saved_model"], "assets.extra", "tf_serving_warmup_requests")
    assert result["warmup"] == path
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]
    signatures = tf.saved_model.load(result["saved_model"]).signatures
    seen = []
    for log in logs:
        assert log.WhichOneof("log_type") == "predict_log"
        request = log.predict_log.request
        name = request.model_spec.signature_name
        feed = {key: tf.make_ndarray(value) for key, value in request.inputs.items()}
        function = signatures[name]
        specs = function.structured_input_signature[1]
        assert set(feed) == set(specs)  # every input of the signature, in its dtype
        assert all(feed[key].dtype == specs[key].dtype.as_numpy_dtype for key in feed)
        outputs = function(**{key: tf.constant(value) for key, value in feed.items()})
        batch = int(feed["num"]) if name == "generate_from_seed" else len(next(iter(feed.values())))
        assert all(value.shape[0] == batch for value in outputs.values())
        seen.append((name, batch))
    # One request per signature at batch sizes 1 and 64.
    assert sorted(seen) == sorted((s, b) for s in ("serving_default", "generate_from_seed", "encode") for b in (1, 64))
    # The serving_default request's images are what G makes of its latents.
    request = next(
        log.predict_log.request
        for log in logs
        if log.predict_log.request.model_spec.signature_name == "serving_default"
    )
    latents = {key: tf.make_ndarray(value) for key, value in request.inputs.items()}
    expected, _ = _keras_reference(workdir, latents, np.zeros((1, 64, 64, 1), np.float32))
    np.testing.assert_allclose(export.run_request(signatures, request)["images"], expected, atol=1e-5)


def test_tflite_on_litert_without_tensorflow(run, tmp_path):
    workdir, result, config = run
    inputs = _inputs(config, batch=4)
    np.savez(tmp_path / "inputs.npz", **inputs)
    script = """
        import sys
        sys.modules["tensorflow"] = None  # as on a phone: LiteRT and numpy only
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter

        lite_dir, data, out = sys.argv[1:4]
        inputs = dict(np.load(data))
        results = {}
        for name in ("generator.tflite", "generator_float16.tflite", "generator_dynamic_int8.tflite"):
            runner = Interpreter(model_path=lite_dir + "/" + name).get_signature_runner("serving_default")
            results[name] = runner(**inputs)["images"]
        np.savez(out, **results)
    """
    _run_python(script, result["tflite_dir"], str(tmp_path / "inputs.npz"), str(tmp_path / "out.npz"))
    out = np.load(tmp_path / "out.npz")
    expected, _ = _keras_reference(workdir, inputs, np.zeros((1, 64, 64, 1), np.float32))
    for name, (filename, statistic, tolerance) in export.TFLITE_VARIANTS.items():
        difference = np.abs(out[filename] - expected)
        assert getattr(difference, statistic)() <= tolerance, (name, difference.max(), difference.mean())
    assert np.max(np.abs(out["generator.tflite"] - expected)) <= 1e-5


def test_signatures_reject_invalid_inputs(run):
    _, result, config = run
    signatures = tf.saved_model.load(result["saved_model"]).signatures
    serve, seeded, encode = signatures["serving_default"], signatures["generate_from_seed"], signatures["encode"]
    good = {k: tf.constant(v) for k, v in _inputs(config, batch=2).items()}
    bad_cases = {
        "categorical index not below K": {**good, "categorical": tf.constant([[0], [3]], tf.int32)},
        "categorical index below 0": {**good, "categorical": tf.constant([[-1], [0]], tf.int32)},
        "z has NaN or Inf": {**good, "z": tf.fill([2, 8], float("nan"))},
        "continuous has NaN or Inf": {**good, "continuous": tf.fill([2, 4], float("inf"))},
        "batch size differs": {**good, "z": tf.zeros([3, 8])},
    }
    for message, inputs in bad_cases.items():
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            serve(**inputs)
    for num, message in [(export.MAX_NUM + 1, "num must be at most"), (0, "num must be at least 1")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            seeded(seed=tf.constant(1, tf.int64), num=tf.constant(num))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"images must lie in \[0, 1\]"):
        encode(images=tf.fill([1, 64, 64, 1], 2.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="z must have 8 columns"):
        serve(**{**good, "z": tf.zeros([2, 5])})
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match="int32"):  # wrong dtype
        serve(**{**good, "categorical": tf.zeros([2, 1])})


def test_export_bad_inputs_are_clear_errors(run, tmp_path, monkeypatch):
    workdir, _, config = run
    with pytest.raises(ConfigError, match="has no config.json"):
        export.export(str(tmp_path / "nowhere"))
    empty = tmp_path / "untrained"
    empty.mkdir()
    (empty / "config.json").write_text(config.to_json())
    with pytest.raises(ConfigError, match="has no checkpoint yet"):
        export.export(str(empty))
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(dataclasses.replace(config, categorical=(5,)).to_json())
    checkpoint = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    with pytest.raises(ConfigError, match="does not fit the model in"):
        export.export(str(other), checkpoint=checkpoint)
    with pytest.raises(ConfigError, match="--quantize='int4' is not one of"):
        export.export(workdir, quantize=("int4",))
    with pytest.raises(ConfigError, match="--version=0 must be a positive integer"):
        export.export(workdir, str(tmp_path / "e0"), version=0, tflite=False)
    (tmp_path / "a_file").write_text("not a directory")
    with pytest.raises(ConfigError, match="a_file/export is not writable"):
        export.export(workdir, str(tmp_path / "a_file" / "export"))
    # A directory without write permission. Root (as in CI) writes anywhere, so there export's probe
    # file meets the EACCES that the kernel gives any other user.
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    with monkeypatch.context() as patch:
        if os.access(locked, os.W_OK):
            probe = tempfile.NamedTemporaryFile

            def refused_in_locked(*args, **kwargs):
                if os.path.realpath(kwargs.get("dir") or "") == os.path.realpath(locked):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(locked))
                return probe(*args, **kwargs)

            patch.setattr(tempfile, "NamedTemporaryFile", refused_in_locked)
        with pytest.raises(ConfigError, match=rf"^--export_dir={re.escape(str(locked))} is not writable \(Permission"):
            export.export(workdir, str(locked))
    assert os.listdir(locked) == []  # refused before anything was written

    # An export that fails half-way (here: the TFLite conversion) leaves no numbered directory and no
    # temporary one, and earlier versions untouched.
    target = tmp_path / "failing"
    export.export(workdir, str(target), tflite=False)
    before = sorted(os.listdir(target / "1"))

    def broken(*args, **kwargs):
        raise RuntimeError("conversion died")

    monkeypatch.setattr(export, "convert_tflite", broken)
    with pytest.raises(RuntimeError, match="conversion died"):
        export.export(workdir, str(target))
    assert sorted(os.listdir(target)) == ["1"] and sorted(os.listdir(target / "1")) == before


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("code, cols", [("cat0", 3), ("cont2", 9)])
def test_litert_demo_writes_a_traversal(run, tmp_path, code, cols):
    _, result, _ = run
    out = tmp_path / f"{code}.png"
    script = os.path.join(ROOT, "examples", "litert_demo.py")
    command = [sys.executable, script, f"--tflite_dir={result['tflite_dir']}", f"--code={code}", f"--out={out}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    png = tf.io.decode_png(tf.io.read_file(str(out)))
    assert png.shape == (6 * 64, cols * 64, 1)


def _serving_client():
    spec = importlib.util.spec_from_file_location("serving_client", os.path.join(ROOT, "examples", "serving_client.py"))
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    return client


def test_serving_client_speaks_the_rest_predict_protocol(run, tmp_path):
    _, result, config = run
    client = _serving_client()
    # The latent explorer's server answers TF Serving's REST predict protocol (tests/test_explore.py).
    server = explore.make_server(explore.Explorer(os.path.dirname(result["saved_model"])), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    signatures = tf.saved_model.load(result["saved_model"]).signatures
    try:
        outputs = client.predict(url, "infogan", "generate_from_seed", {"seed": 42, "num": 5})
        direct = signatures["generate_from_seed"](seed=tf.constant(42, tf.int64), num=tf.constant(5))
        np.testing.assert_array_equal(np.asarray(outputs["images_uint8"], np.uint8), direct["images_uint8"].numpy())
        assert client.grid(np.asarray(outputs["images_uint8"], np.uint8)).shape == (2 * 64, 3 * 64, 1)
        inputs = {k: v.tolist() for k, v in _inputs(config, batch=2).items()}
        assert np.asarray(client.predict(url, "infogan", "serving_default", inputs)["images"]).shape == (2, 64, 64, 1)
        inputs["categorical"] = [[0], [7]]
        with pytest.raises(SystemExit, match="(?s)answered 400: .*categorical index not below K"):
            client.predict(url, "infogan", "serving_default", inputs)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(SystemExit, match="cannot reach TF Serving"):
        client.predict(url, "infogan", "generate_from_seed", {"seed": 1, "num": 1}, timeout=5)


@pytest.mark.parametrize("categorical, continuous, absent", [((), 3, "categorical"), ((4, 2), 0, "continuous")])
def test_models_without_a_kind_of_code_have_no_such_input(tmp_path, categorical, continuous, absent):
    config = config_lib.Config(categorical=categorical, continuous=continuous, noise_dim=5)
    workdir = tmp_path / "run"
    (workdir / "checkpoints").mkdir(parents=True)
    (workdir / "config.json").write_text(config.to_json())
    generator, discriminator = build_models(config)
    tf.train.Checkpoint(generator=generator, discriminator=discriminator).write(str(workdir / "checkpoints" / "ckpt-1"))
    with open(workdir / "checkpoints" / "checkpoint", "w") as f:
        f.write('model_checkpoint_path: "ckpt-1"\n')
    result = export.export(str(workdir), tflite=False)
    signatures = tf.saved_model.load(result["saved_model"]).signatures
    inputs = set(signatures["serving_default"].structured_input_signature[1])
    assert absent not in inputs and "z" in inputs
    seeded = signatures["generate_from_seed"](seed=tf.constant(3, tf.int64), num=tf.constant(2))
    assert absent not in seeded and seeded["images"].shape == (2, 28, 28, 1)
    encoded = signatures["encode"](images=seeded["images"])
    assert absent not in encoded
    probs = sorted(k for k in encoded if k.startswith("categorical_probs_"))
    assert probs == [f"categorical_probs_{i}" for i in range(len(categorical))]


def test_export_killed_mid_write_leaves_no_partial_version(run, tmp_path):
    workdir, _, _ = run
    target = tmp_path / "served"
    export.export(workdir, str(target), tflite=False)
    before = {name: os.path.getsize(target / "1" / name) for name in ("saved_model.pb", "fingerprint.pb")}
    command = [sys.executable, os.path.join(ROOT, "export.py"), f"--workdir={workdir}", f"--export_dir={target}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once the temporary version exists (mid-write), or after 60 s whatever it is doing.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(n.startswith(".tmp-") for n in os.listdir(target)):
        time.sleep(0.05)
    time.sleep(0.5)
    process.kill()
    process.wait()
    numbered = sorted(n for n in os.listdir(target) if n.isdigit())
    assert numbered in (["1"], ["1", "2"])
    assert {name: os.path.getsize(target / "1" / name) for name in before} == before
    for version in numbered:  # whatever is numbered is complete and loads
        assert "serving_default" in tf.saved_model.load(str(target / version)).signatures


def test_serving_latency_benchmark_times_the_export_and_counts_generator_flops(run, monkeypatch, capsys):
    _, result, config = run
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "serving_latency.py")
    spec = importlib.util.spec_from_file_location("serving_latency", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    export_dir = os.path.dirname(result["saved_model"])
    monkeypatch.setattr(
        "sys.argv", ["serving_latency.py", f"--export_dir={export_dir}", "--repeats=2", "--batches=1,2"]
    )
    benchmark.main()
    lines = capsys.readouterr().out.splitlines()
    for prefix in ("savedmodel batch=1 ", "generator.tflite batch=2 ", "generator batch=2 "):
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    flops = {line.split()[1]: float(line.split()[2].split("=")[1]) for line in lines if line.startswith("generator ")}
    # FLOPs grow with the batch: the dcgan64 generator's per-image work, twice.
    assert flops["batch=2"] == pytest.approx(2 * flops["batch=1"], rel=0.01) and flops["batch=1"] > 0


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """A protocol-exact stand-in for TF Serving's gRPC API: `PredictionService.Predict` on one SavedModel
    version, with TF Serving's checks of the model name, the signature and the inputs' dtypes."""

    def __init__(self, saved_model_dir: str, name: str = "infogan", version: int = 1):
        self.signatures = tf.saved_model.load(saved_model_dir).signatures
        self.name, self.version = name, version

    def Predict(self, request, context):  # noqa: N802 (the gRPC method's name)
        spec = request.model_spec
        if spec.name != self.name or (spec.HasField("version") and spec.version.value != self.version):
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({spec.name})")
        signature = spec.signature_name or "serving_default"
        if signature not in self.signatures:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f'Serving signature name: "{signature}" not found')
        expected = self.signatures[signature].structured_input_signature[1]
        for key, tensor in request.inputs.items():
            if key not in expected or tensor.dtype != expected[key].dtype.as_datatype_enum:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"input {key}: wrong name or dtype")
        try:
            outputs = export.run_request(self.signatures, request)
        except tf.errors.InvalidArgumentError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.name, response.model_spec.signature_name = self.name, signature
        response.model_spec.version.value = self.version
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
        return response


def test_serving_client_speaks_grpc_and_writes_the_rest_paths_grid(run, tmp_path, monkeypatch, capsys):
    _, result, config = run
    client = _serving_client()
    grpc_server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _PredictionService(result["saved_model"]), grpc_server
    )
    target = f"127.0.0.1:{grpc_server.add_insecure_port('127.0.0.1:0')}"
    grpc_server.start()
    rest = explore.make_server(explore.Explorer(os.path.dirname(result["saved_model"])), "127.0.0.1", 0)
    threading.Thread(target=rest.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{rest.server_address[1]}"
    latent_json = tmp_path / "latent.json"
    latent_json.write_text(json.dumps({k: v.tolist() for k, v in _inputs(config, batch=3).items()}))
    signatures = tf.saved_model.load(result["saved_model"]).signatures
    try:
        for request in (["--seed=7", "--num=5"], [f"--latent_json={latent_json}"]):
            grids = {}
            for protocol in (f"--url={url}", f"--protocol=grpc --target={target}"):
                out = tmp_path / "grid.png"
                monkeypatch.setattr(sys, "argv", ["serving_client.py", *protocol.split(), *request, f"--out={out}"])
                client.main()
                grids[protocol] = np.asarray(Image.open(out))
            rest_grid, grpc_grid = grids.values()
            np.testing.assert_array_equal(grpc_grid, rest_grid)
            if request[0] == "--seed=7":  # the seed's images, tiled 3 x 2 (one blank cell)
                direct = signatures["generate_from_seed"](seed=tf.constant(7, tf.int64), num=tf.constant(5))
                np.testing.assert_array_equal(grpc_grid, client.grid(direct["images_uint8"].numpy())[..., 0])
                assert grpc_grid.shape == (2 * 64, 3 * 64)
        assert "grid.png: 3 images of 64x64x1" in capsys.readouterr().out
        # TF Serving's gRPC errors become one line naming the target and the status.
        with pytest.raises(SystemExit, match=f"error: {target} answered NOT_FOUND: Servable not found"):
            client.predict_grpc(target, "other", "generate_from_seed", {"seed": 1, "num": 1})
        with pytest.raises(
            SystemExit, match=f"error: {target} answered INVALID_ARGUMENT: categorical index not below K = \\[3\\]$"
        ):
            client.predict_grpc(
                target,
                "infogan",
                "serving_default",
                {**json.loads(latent_json.read_text()), "categorical": [[0], [3], [0]]},
            )
        with pytest.raises(SystemExit, match="cannot reach TF Serving's gRPC API at 127.0.0.1:9"):
            client.predict_grpc("127.0.0.1:9", "infogan", "generate_from_seed", {"seed": 1, "num": 1}, timeout=20)
    finally:
        grpc_server.stop(None)
        rest.shutdown()
        rest.server_close()

"""The latent explorer (infogan_tf.explore): TF Serving's REST protocol against the SavedModel, every
malformed request a 400 with the server still serving, forwarding to a TF Serving (--backend), the
command line, and the page itself in headless Chromium (Debian's chromium + chromium-driver)."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from infogan_tf import config as config_lib
from infogan_tf import explore, export
from infogan_tf.config import ConfigError
from infogan_tf.latent import LatentSpec
from infogan_tf.models import build_models

CONFIG = config_lib.Config(noise_dim=8)  # the paper's MNIST networks, Cat(10) + 2 continuous, small noise
MAX_BATCH = 48


def export_untrained(config: config_lib.Config, directory) -> str:
    """Exports freshly initialised G and D/Q of `config` (a checkpoint as train.py writes it) to E/1."""
    workdir = directory / "run"
    (workdir / "checkpoints").mkdir(parents=True)
    (workdir / "config.json").write_text(config.to_json())
    generator, discriminator = build_models(config)
    tf.train.Checkpoint(generator=generator, discriminator=discriminator).write(str(workdir / "checkpoints" / "ckpt-1"))
    (workdir / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    export_dir = str(directory / "export")
    export.export(str(workdir), export_dir, tflite=False)
    return export_dir


def start(explorer: explore.Explorer):
    """Serves `explorer` on a free loopback port in a thread; returns (server, base URL)."""
    server = explore.make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(export dir, base URL, the SavedModel's signatures) of an explorer on an exported tiny model."""
    export_dir = export_untrained(CONFIG, tmp_path_factory.mktemp("explore"))
    server, url = start(explore.Explorer(export_dir, max_batch=MAX_BATCH, max_body_bytes=200_000))
    yield export_dir, url, tf.saved_model.load(os.path.join(export_dir, "1")).signatures
    server.shutdown()
    server.server_close()


def call(url: str, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
    """One HTTP request; `body` a dict (sent as JSON) or raw bytes. Returns (status, JSON answer)."""
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    connection.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    status, payload = response.status, response.read()
    connection.close()
    return status, json.loads(payload)


def inputs(batch: int = 3, seed: int = 1) -> dict:
    return {k: v.tolist() for k, v in export.sample_inputs(LatentSpec.from_config(CONFIG), batch, seed).items()}


def direct(signatures, name: str, **values) -> dict:
    function = signatures[name]
    specs = function.structured_input_signature[1]
    return {k: v.numpy() for k, v in function(**{k: tf.constant(v, specs[k].dtype) for k, v in values.items()}).items()}


def test_predict_answers_as_tf_serving_with_what_the_saved_model_returns(served):
    _, url, signatures = served
    batch = inputs()
    status, answer = call(
        url, "POST", "/v1/models/infogan:predict", {"signature_name": "serving_default", "inputs": batch}
    )
    assert status == 200 and set(answer["outputs"]) == {"images", "images_uint8"}
    expected = direct(signatures, "serving_default", **batch)
    np.testing.assert_array_equal(np.asarray(answer["outputs"]["images_uint8"], np.uint8), expected["images_uint8"])
    np.testing.assert_allclose(np.asarray(answer["outputs"]["images"], np.float32), expected["images"], rtol=0, atol=0)
    # The row format, and a version named in the path; no signature_name means serving_default.
    rows = [{k: v[i] for k, v in batch.items()} for i in range(3)]
    status, answer = call(url, "POST", "/v1/models/infogan/versions/1:predict", {"instances": rows})
    assert status == 200 and len(answer["predictions"]) == 3
    np.testing.assert_array_equal(
        np.asarray(answer["predictions"][2]["images_uint8"], np.uint8), expected["images_uint8"][2]
    )
    status, answer = call(
        url,
        "POST",
        "/v1/models/infogan:predict",
        {"signature_name": "generate_from_seed", "inputs": {"seed": 5, "num": 4}},
    )
    seeded = direct(signatures, "generate_from_seed", seed=5, num=4)
    assert status == 200 and set(answer["outputs"]) == set(seeded)
    np.testing.assert_array_equal(np.asarray(answer["outputs"]["z"], np.float32), seeded["z"])
    status, answer = call(
        url,
        "POST",
        "/v1/models/infogan:predict",
        {"signature_name": "encode", "inputs": {"images": seeded["images"].tolist()}},
    )
    encoded = direct(signatures, "encode", images=seeded["images"])
    assert status == 200
    np.testing.assert_array_equal(np.asarray(answer["outputs"]["categorical"]), encoded["categorical"])
    np.testing.assert_allclose(
        np.asarray(answer["outputs"]["categorical_probs_0"]), encoded["categorical_probs_0"], atol=1e-7
    )
    # Status as TF Serving reports it; another model or version is not found.
    assert call(url, "GET", "/v1/models/infogan") == (
        200,
        {
            "model_version_status": [
                {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            ]
        },
    )
    status, answer = call(url, "POST", "/v1/models/infogan/versions/2:predict", {"inputs": batch})
    assert status == 404 and "Servable not found" in answer["error"]
    status, answer = call(url, "POST", "/v1/models/other:predict", {"inputs": batch})
    assert status == 404 and "Latest(other)" in answer["error"]


def _body(**changes):
    body = {"signature_name": "serving_default", "inputs": inputs(batch=2)}
    body["inputs"].update(changes)
    return body


MALFORMED = {
    "not JSON": (b'{"inputs": [', 400, "JSON Parse error"),
    "not an object": (b"[1, 2]", 400, "must be a JSON object"),
    "unknown signature": ({"signature_name": "train", "inputs": {}}, 400, 'name: "train" not found in signature def'),
    "no inputs": ({"signature_name": "serving_default"}, 400, 'exactly one of "inputs"'),
    "inputs and instances": ({"inputs": {}, "instances": []}, 400, 'exactly one of "inputs"'),
    "unknown input": (_body(noise=[[0.0] * 8] * 2), 400, "unknown: noise"),
    "missing input": (
        {"inputs": {k: v for k, v in inputs(2).items() if k != "continuous"}},
        400,
        "missing: continuous",
    ),
    "wrong width": (_body(z=[[0.0] * 7] * 2), 400, r'"z" must be float32 of shape \[B, 8\]; got shape \[2, 7\]'),
    "wrong rank": (_body(continuous=[0.5, 0.5]), 400, r'"continuous" must be float32 of shape \[B, 2\]; got rank 1'),
    "ragged": (_body(z=[[0.0] * 8, [0.0] * 3]), 400, "ragged or non-numeric"),
    "strings": (_body(categorical=[["a"], ["b"]]), 400, "ragged or non-numeric"),
    "category out of range": (_body(categorical=[[3], [10]]), 400, "categorical index not below K"),
    "negative category": (_body(categorical=[[-1], [0]]), 400, "categorical index"),
    "fractional category": (_body(categorical=[[1.5], [0]]), 400, "non-integer"),
    "non-finite code": (
        b'{"inputs": {"z": [[0,0,0,0,0,0,0,0]], "categorical": [[1]], "continuous": [[NaN, 0]]}}',
        400,
        "NaN or Inf",
    ),
    "batch mismatch": (_body(z=[[0.0] * 8] * 3), 400, r"different batch sizes: \[2, 3\]"),
    "batch over the cap": ({"inputs": inputs(MAX_BATCH + 1)}, 400, f"over this server's limit of {MAX_BATCH}"),
    "num over the cap": (
        {"signature_name": "generate_from_seed", "inputs": {"seed": 1, "num": 1000}},
        400,
        "--max_batch",
    ),
    "num zero": ({"signature_name": "generate_from_seed", "inputs": {"seed": 1, "num": 0}}, 400, "at least 1"),
    "seed out of int64": (
        {"signature_name": "generate_from_seed", "inputs": {"seed": 2**70, "num": 1}},
        400,
        '"seed" must be int64',
    ),
    "scalars as instances": (
        {"signature_name": "generate_from_seed", "instances": [{"seed": 1, "num": 1}]},
        400,
        "scalar inputs",
    ),
    "body over the cap": ({"inputs": {"z": [[0.5] * 8] * 8000}}, 413, "--max_body_bytes"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_every_malformed_request_gets_a_clear_error_and_the_server_keeps_serving(served, case):
    _, url, _ = served
    body, code, message = MALFORMED[case]
    status, answer = call(url, "POST", "/v1/models/infogan:predict", body)
    assert status == code and set(answer) == {"error"}
    assert __import__("re").search(message, answer["error"]), answer["error"]
    assert call(url, "POST", "/v1/models/infogan:predict", _body())[0] == 200


def test_wrong_methods_paths_and_missing_length_are_refused(served):
    _, url, _ = served
    assert call(url, "GET", "/v1/models/infogan:predict")[0] == 405
    assert call(url, "POST", "/v1/models/infogan", b"{}")[0] == 405
    status, answer = call(url, "GET", "/nowhere")
    assert status == 404 and "No such page" in answer["error"]
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
    connection.putrequest("POST", "/v1/models/infogan:predict")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 411 and "Content-Length" in json.loads(response.read())["error"]
    connection.close()
    assert call(url, "POST", "/v1/models/infogan:predict", _body())[0] == 200


def _raw(url: str, method: str, path: str, body: bytes = b"", headers=None) -> tuple[int, str, bytes]:
    """One HTTP request with exactly the given headers: (status, Content-Type, body)."""
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
    connection.putrequest(method, path)
    for key, value in (headers or {}).items():
        connection.putheader(key, value)
    connection.endheaders(body or None)
    response = connection.getresponse()
    answer = response.status, response.headers["Content-Type"], response.read()
    connection.close()
    return answer


# Requests the server refuses before or instead of running the model: (method, path, headers) -> status.
REFUSED = {
    "unknown path": ("GET", "/nowhere", {}, 404),
    "unknown model": ("GET", "/v1/models/other/metadata", {}, 404),
    "unknown version": ("POST", "/v1/models/infogan/versions/2:predict", {"Content-Length": "2"}, 404),
    "GET on predict": ("GET", "/v1/models/infogan:predict", {}, 405),
    "POST on status": ("POST", "/v1/models/infogan/metadata", {"Content-Length": "2"}, 405),
    "no Content-Length": ("POST", "/v1/models/infogan:predict", {}, 411),
    "body over --max_body_bytes": ("POST", "/v1/models/infogan:predict", {"Content-Length": "300000"}, 413),
    "DELETE": ("DELETE", "/v1/models/infogan", {}, 501),
    "HEAD": ("HEAD", "/", {}, 501),
    "PUT": ("PUT", "/v1/models/infogan:predict", {"Content-Length": "2"}, 501),
}


@pytest.mark.parametrize("case", REFUSED)
def test_every_refusal_is_a_json_error_with_its_status(served, case):
    _, url, _ = served
    method, path, headers, expected = REFUSED[case]
    status, content_type, payload = _raw(url, method, path, b"{}" if "Content-Length" in headers else b"", headers)
    assert (status, content_type) == (expected, "application/json")
    if method != "HEAD":  # a HEAD answer has no body
        assert list(json.loads(payload)) == ["error"] and json.loads(payload)["error"]
    assert call(url, "POST", "/v1/models/infogan:predict", _body())[0] == 200


def test_metadata_is_tf_servings_answer_generated_from_the_signatures(served):
    export_dir, url, _ = served
    status, answer = call(url, "GET", "/v1/models/infogan/metadata")
    assert status == 200 and call(url, "GET", "/v1/models/infogan/versions/1/metadata") == (200, answer)
    assert list(answer) == ["model_spec", "metadata"] and list(answer["metadata"]) == ["signature_def"]
    # TF Serving's JSON, key order included (its own expected answer, in its repository:
    # tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_2_versions_metadata.json).
    assert list(answer["model_spec"].items()) == [("name", "infogan"), ("signature_name", ""), ("version", "1")]
    shown = answer["metadata"]["signature_def"]["signature_def"]
    # TF Serving's JSON of a TensorInfo: every field printed, int64 sizes as strings.
    assert list(shown["serving_default"]) == ["inputs", "outputs", "method_name", "defaults"]
    assert list(shown["serving_default"]["inputs"]["z"]) == ["dtype", "tensor_shape", "name"]
    assert shown["serving_default"]["inputs"]["z"] == {
        "dtype": "DT_FLOAT",
        "tensor_shape": {"dim": [{"size": "-1", "name": ""}, {"size": "8", "name": ""}], "unknown_rank": False},
        "name": "serving_default_z:0",
    }
    assert shown["generate_from_seed"]["inputs"]["seed"]["tensor_shape"] == {"dim": [], "unknown_rank": False}
    assert shown["encode"]["method_name"] == "tensorflow/serving/predict"
    # Every signature TF Serving's loader sees (the TF1 session loader), with its tensors, as it has them.
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], os.path.join(export_dir, "1"))
    assert set(shown) == set(meta.signature_def) >= {"serving_default", "generate_from_seed", "encode"}
    for name, signature in meta.signature_def.items():
        assert shown[name]["method_name"] == signature.method_name
        for kind in ("inputs", "outputs"):
            assert set(shown[name][kind]) == set(getattr(signature, kind))
            for key, info in getattr(signature, kind).items():
                assert shown[name][kind][key]["name"] == info.name
                assert shown[name][kind][key]["dtype"] == types_pb2.DataType.Name(info.dtype)
                dims = [int(d["size"]) for d in shown[name][kind][key]["tensor_shape"]["dim"]]
                assert dims == [d.size for d in info.tensor_shape.dim]


def test_version_labels_are_refused_as_tf_serving_refuses_an_unknown_label(served):
    _, url, _ = served
    refused = (400, {"error": "Unrecognized servable version label: stable"})
    assert call(url, "GET", "/v1/models/infogan/labels/stable") == refused
    assert call(url, "GET", "/v1/models/infogan/labels/stable/metadata") == refused
    assert call(url, "POST", "/v1/models/infogan/labels/stable:predict", _body()) == refused


def test_predictions_over_max_concurrent_are_answered_429_at_once(served, monkeypatch):
    export_dir, _, _ = served
    explorer = explore.Explorer(export_dir, max_concurrent=1)
    server, url = start(explorer)
    entered, release, results = threading.Event(), threading.Event(), []
    predict = explorer.servable.predict

    def held(body):
        entered.set()
        release.wait(60)
        return predict(body)

    monkeypatch.setattr(explorer.servable, "predict", held)
    first = threading.Thread(target=lambda: results.append(call(url, "POST", "/v1/models/infogan:predict", _body())))
    try:
        first.start()
        assert entered.wait(60)
        began = time.monotonic()
        status, answer = call(url, "POST", "/v1/models/infogan:predict", _body())
        assert status == 429 and "1 predictions are already running (--max_concurrent)" in answer["error"]
        assert time.monotonic() - began < 5  # answered at once, not queued behind the running one
        assert call(url, "GET", "/v1/models/infogan")[0] == 200  # status and metadata are not limited
    finally:
        release.set()
        first.join(60)
        server.shutdown()
        server.server_close()
    assert results[0][0] == 200


def test_start_up_replays_the_warmup_records(served, tmp_path):
    export_dir, _, _ = served
    assert explore.Explorer(export_dir).servable.warmup_requests == 6  # 3 signatures x batch 1 and 64
    # A record that fails when run stops the start-up, as it stops TF Serving's load of the version.
    copy = tmp_path / "export"
    shutil.copytree(export_dir, copy)
    logs = export.warmup_requests(CONFIG)
    bad = next(log for log in logs if log.predict_log.request.model_spec.signature_name == "serving_default")
    bad.predict_log.request.inputs["categorical"].CopyFrom(tf.make_tensor_proto(np.array([[10]], np.int32)))
    export.write_warmup(str(copy / "1"), logs)
    with pytest.raises(
        ConfigError, match=r"tf_serving_warmup_requests cannot be replayed .*categorical index.*re-export"
    ):
        explore.Explorer(str(copy))


def test_an_internal_error_is_a_500_with_a_message_and_the_server_keeps_serving(served, monkeypatch):
    export_dir, _, _ = served
    explorer = explore.Explorer(export_dir)
    server, url = start(explorer)
    try:
        predict = explorer.servable.predict

        def broken(body):
            raise RuntimeError("a bug")

        monkeypatch.setattr(explorer.servable, "predict", broken)
        assert call(url, "POST", "/v1/models/infogan:predict", _body()) == (
            500,
            {"error": "Internal error: RuntimeError: a bug"},
        )
        monkeypatch.setattr(explorer.servable, "predict", predict)
        assert call(url, "POST", "/v1/models/infogan:predict", _body())[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_page_files_and_config_are_served_locally(served):
    export_dir, url, _ = served
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
    for path, kind in [
        ("/", "text/html"),
        ("/static/explorer.js", "text/javascript"),
        ("/static/explorer.css", "text/css"),
    ]:
        connection.request("GET", path)
        response = connection.getresponse()
        text = response.read().decode()
        assert response.status == 200 and response.headers["Content-Type"].startswith(kind)
        assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere
    connection.close()
    status, config = call(url, "GET", "/explorer/config.json")
    assert status == 200 and config["version"] == 1 and config["model_name"] == "infogan"
    assert config["spec"] == json.load(open(os.path.join(export_dir, "1", "assets", "latent_spec.json")))
    assert config["spec"]["categorical"] == [10] and config["spec"]["continuous"] == 2


def test_backend_forwards_tf_serving_requests_and_answers_unchanged(served):
    export_dir, url, _ = served
    # `url` speaks TF Serving's REST API (checked above), standing in for TF Serving here.
    proxy, proxy_url = start(explore.Explorer(export_dir, backend=url + "/"))
    try:
        assert proxy_url != url and call(proxy_url, "GET", "/v1/models/infogan") == call(
            url, "GET", "/v1/models/infogan"
        )
        body = _body()
        assert call(proxy_url, "POST", "/v1/models/infogan:predict", body) == call(
            url, "POST", "/v1/models/infogan:predict", body
        )
        bad = _body(categorical=[[0], [11]])
        status, answer = call(proxy_url, "POST", "/v1/models/infogan:predict", bad)
        assert status == 400 and "categorical index" in answer["error"]
        assert call(proxy_url, "GET", "/explorer/config.json")[1]["backend"] == url
    finally:
        proxy.shutdown()
        proxy.server_close()
    dead, dead_url = start(explore.Explorer(export_dir, backend="http://127.0.0.1:9"))
    try:
        status, answer = call(dead_url, "POST", "/v1/models/infogan:predict", _body())
        assert status == 502 and "Cannot reach TF Serving at --backend=http://127.0.0.1:9" in answer["error"]
    finally:
        dead.shutdown()
        dead.server_close()


def test_command_line_serves_the_page_and_says_what_is_wrong(served, tmp_path):
    export_dir, _, _ = served
    command = [sys.executable, "-m", "infogan_tf.explore"]
    done = subprocess.run(command + [f"--export_dir={tmp_path}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "holds no SavedModel version" in done.stderr
    done = subprocess.run(
        command + [f"--export_dir={export_dir}", "--version=7"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "--version=7 is not in" in done.stderr and "[1]" in done.stderr
    with subprocess.Popen(
        command + [f"--export_dir={export_dir}", "--port=0"], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            line = process.stdout.readline()
            assert line.startswith("Latent explorer: http://127.0.0.1:") and "version 1" in line
            url = line.split()[2].rstrip("/")
            status, answer = call(url, "POST", "/v1/models/infogan:predict", _body())
            assert status == 200 and np.asarray(answer["outputs"]["images"]).shape == (2, 28, 28, 1)
        finally:
            process.terminate()
            process.wait(timeout=30)


# --- The page in headless Chromium ---------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Debian Chromium driven by Selenium through Debian's chromedriver (no browser download)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--window-size=1280,1000", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(d))


def _renders(driver, kind: str) -> int:
    return int(driver.execute_script(f"return document.body.dataset.{kind}Renders || 0"))


def _pixels(driver, selector: str) -> np.ndarray:
    """A canvas's pixels [H, W, RGBA], read in the page."""
    width, height, data = driver.execute_script(
        "const c = document.querySelector(arguments[0]);"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];",
        selector,
    )
    return np.asarray(data, np.uint8).reshape(height, width, 4)


def _settled(driver, kind: str, before: int) -> int:
    """Waits for a render after `before` and for the page to go idle; returns the render count."""
    _wait(driver, lambda d: _renders(d, kind) > before and not d.find_element("id", "status").text)
    return _renders(driver, kind)


def test_page_turns_codes_and_draws_what_the_model_returns(served, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    _, url, signatures = served
    browser.get(url + "/")
    _settled(browser, "image", 0)
    _settled(browser, "traversal", 0)
    assert "infogan, version 1" in browser.find_element("id", "model").text
    assert '"categorical": [\n    10\n  ]' in browser.execute_script(
        "return document.getElementById('spec').textContent"
    )
    # The traversal of the focused code (cat0 first): its 10 categories for 4 noise samples.
    assert len(browser.find_elements("css selector", "#strip canvas")) == 10 * 4
    assert browser.find_element("id", "error").get_attribute("hidden") is not None
    z = direct(signatures, "generate_from_seed", seed=0, num=4)["z"]

    def expected(category, continuous, z=z):
        images = direct(signatures, "serving_default", z=z[:1], categorical=[[category]], continuous=[continuous])
        return images["images_uint8"][0, :, :, 0]

    start = _pixels(browser, "#image")
    assert start.shape == (28, 28, 4)
    np.testing.assert_array_equal(start[:, :, 0], expected(0, [0.0, 0.0]))  # exactly the SavedModel's pixels
    # Move the first continuous slider to its end (+2) with the keyboard, as a user can.
    images, traversals = _renders(browser, "image"), _renders(browser, "traversal")
    slider = browser.find_element("id", "cont0")
    slider.click()
    slider.send_keys(Keys.END)
    _settled(browser, "image", images)
    _settled(browser, "traversal", traversals)
    moved = _pixels(browser, "#image")
    assert browser.execute_script("return window.explorer.state.continuous") == [2, 0]
    assert not np.array_equal(moved, start)
    np.testing.assert_array_equal(moved[:, :, 0], expected(0, [2.0, 0.0]))
    assert len(browser.find_elements("css selector", "#strip canvas")) == 9 * 4  # now cont0's: -2..2 in 9 steps
    assert "cont0" in browser.find_element("id", "traversal-title").text
    # Another category.
    images, traversals = _renders(browser, "image"), _renders(browser, "traversal")
    Select(browser.find_element("id", "cat0")).select_by_value("7")
    _settled(browser, "image", images)
    changed = _pixels(browser, "#image")
    assert not np.array_equal(changed, moved)
    np.testing.assert_array_equal(changed[:, :, 0], expected(7, [2.0, 0.0]))
    # A traversal cell is the same image as the main one where it has the same code.
    _settled(browser, "traversal", traversals)
    cells = browser.find_elements("css selector", "#strip canvas")
    assert len(cells) == 10 * 4 and "current" in cells[7].get_attribute("class")
    np.testing.assert_array_equal(_pixels(browser, "#strip canvas:nth-of-type(8)")[:, :, 0], changed[:, :, 0])
    # The code under the pointer gets the traversal.
    traversals = _renders(browser, "traversal")
    ActionChains(browser).move_to_element(browser.find_element("id", "code-continuous-1")).perform()
    _settled(browser, "traversal", traversals)
    assert "cont1" in browser.find_element("id", "traversal-title").text
    assert len(browser.find_elements("css selector", "#strip canvas")) == 9 * 4
    # "New sample": another noise seed, the same codes.
    images = _renders(browser, "image")
    browser.find_element("id", "new-sample").click()
    _settled(browser, "image", images)
    seed = int(browser.find_element("id", "seed").get_attribute("value"))
    resampled = _pixels(browser, "#image")
    assert seed != 0 and not np.array_equal(resampled, changed)
    z = direct(signatures, "generate_from_seed", seed=seed, num=4)["z"]
    np.testing.assert_array_equal(resampled[:, :, 0], expected(7, [2.0, 0.0], z))
    assert browser.find_element("id", "error").get_attribute("hidden") is not None


def test_page_shows_the_servers_error(served, browser):
    export_dir, _, _ = served
    # A server that takes at most 8 images a request: the image renders, the 40-image traversal is refused.
    server, url = start(explore.Explorer(export_dir, max_batch=8))
    dead, dead_url = start(explore.Explorer(export_dir, backend="http://127.0.0.1:9"))
    try:
        browser.get(url + "/")
        _settled(browser, "image", 0)
        error = _wait(browser, lambda d: d.find_element("id", "error") if d.find_element("id", "error").text else None)
        assert error.is_displayed()
        assert "Could not update the traversal: the server answered 400" in error.text and "--max_batch" in error.text
        browser.get(dead_url + "/")
        error = _wait(browser, lambda d: d.find_element("id", "error") if d.find_element("id", "error").text else None)
        assert "Could not update the noise: the server answered 502: Cannot reach TF Serving" in error.text
    finally:
        for s in (server, dead):
            s.shutdown()
            s.server_close()


def test_page_works_for_a_model_without_categorical_codes(browser, tmp_path):
    config = config_lib.Config(categorical=(), continuous=3, noise_dim=5)
    export_dir = export_untrained(config, tmp_path)
    signatures = tf.saved_model.load(os.path.join(export_dir, "1")).signatures
    server, url = start(explore.Explorer(export_dir))
    try:
        browser.get(url + "/")
        _settled(browser, "image", 0)
        _settled(browser, "traversal", 0)
        assert not browser.find_elements("css selector", "select")  # no categorical code, no selector
        assert len(browser.find_elements("css selector", "input[type=range]")) == 3
        assert "cont0" in browser.find_element("id", "traversal-title").text
        assert len(browser.find_elements("css selector", "#strip canvas")) == 9 * 4
        z = direct(signatures, "generate_from_seed", seed=0, num=4)["z"]
        want = direct(signatures, "serving_default", z=z[:1], continuous=[[0.0, 0.0, 0.0]])["images_uint8"][0]
        np.testing.assert_array_equal(_pixels(browser, "#image")[:, :, 0], want[:, :, 0])
        assert browser.find_element("id", "error").get_attribute("hidden") is not None
    finally:
        server.shutdown()
        server.server_close()

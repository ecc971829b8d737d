"""Latent explorer: a local page to move each code of an exported generator and watch what it controls.

python -m infogan_tf.explore --export_dir=runs/digits/export        # then open http://127.0.0.1:8501/
python -m infogan_tf.explore --export_dir=E --backend=http://localhost:8501 --port=8080   # a real TF Serving

The server answers TF Serving's REST API for one model (`--model_name`), run from the SavedModel
`E/<N>` (the latest version unless `--version`):
- `POST /v1/models/<name>[/versions/<N>]:predict` with `{"signature_name": ..., "inputs": {...}}`
  (columnar, answered `{"outputs": {...}}`) or `{"instances": [...]}` (rows, answered
  `{"predictions": [...]}`); a bad request is answered `{"error": "..."}` with status 400 (404 for an
  unknown model or version, 413 for a body over `--max_body_bytes`), and the server goes on serving;
- `GET /v1/models/<name>[/versions/<N>]`: the version's status, as TF Serving gives it;
- `GET /v1/models/<name>[/versions/<N>]/metadata`: TF Serving's metadata JSON (`model_spec`, then
  `metadata.signature_def.signature_def.<signature>`), generated from the SavedModel's signatures.
`/labels/<label>` paths are refused as TF Serving refuses an unknown label (400), and every refusal,
whatever its status (400, 404, 405, 411, 413, 429, 500, 501, 502), is a JSON `{"error": ...}`. At most
`--max_concurrent` predictions run at once; more are answered 429 (TF Serving's RESOURCE_EXHAUSTED)
at once. At start-up the server replays the version's warm-up records
(`assets.extra/tf_serving_warmup_requests`, written by export.py), as TF Serving does at load.
The page (`infogan_tf/explorer/`: plain HTML, JS and CSS, nothing fetched from elsewhere) uses only
that API and `GET /explorer/config.json` (the latent spec from `E/<N>/assets/latent_spec.json`, the
model name and version). With `--backend=URL` the API is forwarded to a TF Serving at URL, so the same
page drives the real server; the SavedModel is then not loaded here, only its latent spec is read.

Local only by default (127.0.0.1): the server runs whatever requests it gets on this machine's CPU.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import os
import re
import threading
import urllib.error
import urllib.request
from importlib import resources

import numpy as np
from absl import app, flags, logging

from infogan_tf.config import ConfigError

PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/explorer.js": ("explorer.js", "text/javascript; charset=utf-8"),
    "/static/explorer.css": ("explorer.css", "text/css; charset=utf-8"),
}
_MODEL_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?"
    r"(?:(?P<verb>:predict)|(?P<metadata>/metadata))?$"
)


class RequestError(Exception):
    """A request this server refuses: its HTTP status and the `error` message TF Serving-style."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def find_version(export_dir: str, version: int | None = None) -> tuple[int, str]:
    """The version N and path of `E/<N>`: `version`, or the largest integer folder holding a SavedModel."""
    if not os.path.isdir(export_dir):
        raise ConfigError(f"--export_dir={export_dir} is not a directory; point it at `python export.py`'s output.")
    versions = sorted(
        int(name)
        for name in os.listdir(export_dir)
        if name.isdigit() and os.path.isfile(os.path.join(export_dir, name, "saved_model.pb"))
    )
    if not versions:
        raise ConfigError(
            f"--export_dir={export_dir} holds no SavedModel version (<N>/saved_model.pb); "
            "run `python export.py --workdir=W --export_dir=...` first."
        )
    if version is None:
        version = versions[-1]
    elif version not in versions:
        raise ConfigError(f"--version={version} is not in --export_dir={export_dir}, which has {versions}.")
    return version, os.path.join(export_dir, str(version))


def read_latent_spec(saved_model_dir: str) -> dict:
    """`assets/latent_spec.json` of an exported version: what the generator's inputs mean."""
    path = os.path.join(saved_model_dir, "assets", "latent_spec.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path} cannot be read ({error}); re-export the model with `python export.py`.") from None


def _describe_shape(shape) -> str:
    return "[" + ", ".join("B" if d is None else str(d) for d in shape) + "]"


@dataclasses.dataclass(frozen=True)
class DecodedRequest:
    """A predict body checked against its signature: what to run, and in which format to answer."""

    signature: str
    arrays: dict  # input name -> array of the input's dtype and shape
    rows: bool  # sent as "instances", so answered as "predictions" (rows) rather than "outputs"


class RequestDecoder:
    """TF Serving REST predict bodies -> the numpy inputs of one of the model's signatures, checked.

    Everything is checked before anything runs (the signature name, the input names, numeric rectangular
    arrays of the right dtype and shape, one batch size within --max_batch), so a bad request is a
    RequestError (400) naming what is wrong rather than whatever the SavedModel would make of it.
    """

    def __init__(self, input_specs: dict, max_batch: int):
        """`input_specs`: signature name -> {input name: (shape, None where any size, tf.DType)}."""
        self.input_specs = input_specs
        self.max_batch = max_batch

    def decode(self, body: dict) -> DecodedRequest:
        """A parsed TF Serving predict body -> its signature, input arrays and format; raises RequestError."""
        signature = body.get("signature_name", "serving_default")
        if not isinstance(signature, str) or signature not in self.input_specs:
            raise RequestError(
                400,
                f'Serving signature name: "{signature}" not found in signature def; '
                f"this model has {', '.join(sorted(self.input_specs))}.",
            )
        specs = self.input_specs[signature]
        if ("inputs" in body) == ("instances" in body):
            raise RequestError(400, 'The request must have exactly one of "inputs" (columnar) or "instances" (rows).')
        rows = "instances" in body
        named = self._columns(body["instances"], specs, signature) if rows else body["inputs"]
        if not isinstance(named, dict) and len(specs) == 1:
            named = {next(iter(specs)): named}  # TF Serving accepts a bare value for a one-input signature
        if not isinstance(named, dict):
            raise RequestError(400, f'"inputs" must be an object with the inputs {", ".join(specs)} of "{signature}".')
        unknown, missing = sorted(set(named) - set(specs)), [key for key in specs if key not in named]
        if unknown or missing:
            raise RequestError(
                400,
                f'Signature "{signature}" takes the inputs {", ".join(specs)}'
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + ".",
            )
        arrays = {key: self._array(key, named[key], *specs[key]) for key in specs}
        self._check_batch(signature, arrays, specs)
        return DecodedRequest(signature, arrays, rows)

    @staticmethod
    def _columns(instances, specs: dict, signature: str) -> dict:
        """TF Serving's row format -> columns: a list of {input: value} (or bare values, one input)."""
        if any(not shape for shape, _ in specs.values()):
            raise RequestError(400, f'"{signature}" has scalar inputs; send them as "inputs", not "instances".')
        if not isinstance(instances, list) or not instances:
            raise RequestError(400, '"instances" must be a non-empty list.')
        if len(specs) == 1 and not all(isinstance(row, dict) for row in instances):
            return {next(iter(specs)): instances}
        if not all(isinstance(row, dict) and set(row) == set(specs) for row in instances):
            raise RequestError(400, f'Every instance of "{signature}" must be an object with {", ".join(specs)}.')
        return {key: [row[key] for row in instances] for key in specs}

    @staticmethod
    def _array(key: str, value, shape: list, dtype) -> np.ndarray:
        """A JSON value -> an array of the input's dtype and shape, or a RequestError naming the input."""
        try:
            array = np.asarray(value)
        except ValueError:
            array = np.asarray([], dtype=object)
        want = f'Input "{key}" must be {dtype.name} of shape {_describe_shape(shape)}'
        if array.dtype.kind not in "iuf":  # object (ragged or huge integers), strings, booleans
            raise RequestError(400, f"{want}; got a ragged or non-numeric value.")
        if array.ndim != len(shape):
            raise RequestError(400, f"{want}; got rank {array.ndim}.")
        if any(want_d is not None and got != want_d for want_d, got in zip(shape, array.shape, strict=True)):
            raise RequestError(400, f"{want}; got shape {list(array.shape)}.")
        if dtype.is_integer:
            if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
                raise RequestError(400, f"{want}; got non-integer values.")
            if array.size and (array.min() < dtype.min or array.max() > dtype.max):
                raise RequestError(400, f"{want}; a value is outside {dtype.name}'s range.")
        return array.astype(dtype.as_numpy_dtype)

    def _check_batch(self, signature: str, arrays: dict, specs: dict) -> None:
        """One batch size for every batched input, between 1 and --max_batch (also for `num`)."""
        batches = {len(arrays[key]) for key, (shape, _) in specs.items() if shape and shape[0] is None}
        if "num" in arrays and arrays["num"].ndim == 0:
            batches.add(int(arrays["num"]))
        if len(batches) > 1:
            raise RequestError(400, f'The inputs of "{signature}" have different batch sizes: {sorted(batches)}.')
        for batch in batches:
            if batch > self.max_batch:
                raise RequestError(
                    400, f"A batch of {batch} is over this server's limit of {self.max_batch} (--max_batch)."
                )
            if batch < 1:
                raise RequestError(400, f'"{signature}" needs a batch of at least 1.')


def read_signature_defs(saved_model_dir: str):
    """The SignatureDef protos of the SavedModel's `serve` graph, as saved_model.pb holds them.

    The metadata reports these rather than the loaded functions' specs: they are what TF Serving reads.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    graphs = [graph for graph in saved_model.meta_graphs if "serve" in graph.meta_info_def.tags]
    return graphs[0].signature_def if graphs else {}


def model_metadata(signature_defs, model_name: str, version: int) -> dict:
    """TF Serving's GET .../metadata answer: the model spec and the SavedModel's signature defs."""
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_metadata_pb2, model_pb2

    spec = model_pb2.ModelSpec(name=model_name)
    spec.version.value = version
    signatures = get_model_metadata_pb2.SignatureDefMap()
    for name, signature in signature_defs.items():
        signatures.signature_def[name].CopyFrom(signature)
    # TF Serving prints both with preserved field names and every field, defaults included.
    options = {"preserving_proto_field_name": True, "always_print_fields_with_no_presence": True}
    model_spec = _oneofs_last(json_format.MessageToDict(spec, **options), "version")
    signature_defs = json_format.MessageToDict(signatures, **options)
    for signature in signature_defs["signature_def"].values():
        for kind in ("inputs", "outputs"):
            signature[kind] = {key: _oneofs_last(info, "name") for key, info in signature[kind].items()}
    return {"model_spec": model_spec, "metadata": {"signature_def": signature_defs}}


def _oneofs_last(fields: dict, *oneofs: str) -> dict:
    """TF Serving's (C++) key order: a message's oneof members (ModelSpec's version, TensorInfo's name)
    after its other fields."""
    return {**{k: v for k, v in fields.items() if k not in oneofs}, **{k: fields[k] for k in oneofs if k in fields}}


class Servable:
    """One loaded SavedModel version: runs TF Serving predict bodies on its signatures."""

    def __init__(self, saved_model_dir: str, max_batch: int):
        import tensorflow as tf  # only when serving locally: a --backend explorer needs no TensorFlow

        self._tf = tf
        self.model = tf.saved_model.load(saved_model_dir)
        self.signatures = dict(self.model.signatures.items())  # signature name -> concrete function
        input_specs = {}
        for name, function in self.signatures.items():
            inputs = function.structured_input_signature[1]
            input_specs[name] = {key: (spec.shape.as_list(), spec.dtype) for key, spec in inputs.items()}
        self.decoder = RequestDecoder(input_specs, max_batch)
        self.signature_defs = read_signature_defs(saved_model_dir)
        self.warmup_requests = self._replay_warmup(saved_model_dir)

    def _replay_warmup(self, saved_model_dir: str) -> int:
        """Runs the version's warm-up records as TF Serving does at load; returns how many ran."""
        from infogan_tf import export

        path = os.path.join(saved_model_dir, export.WARMUP_FILE)
        try:
            logs = export.read_warmup(saved_model_dir)
            for log in logs:
                export.run_request(self.signatures, log.predict_log.request)
        except Exception as error:  # TF Serving refuses to load a version whose warm-up fails
            raise ConfigError(
                f"{path} cannot be replayed ({type(error).__name__}: {_first_line(error)}); "
                "re-export the model with `python export.py`."
            ) from None
        return len(logs)

    def predict(self, body: dict) -> dict:
        """A parsed TF Serving predict body -> its response body; raises RequestError."""
        request = self.decoder.decode(body)
        function, tf = self.signatures[request.signature], self._tf
        try:
            outputs = function(**{key: tf.constant(value) for key, value in request.arrays.items()})
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            raise RequestError(400, _first_line(error)) from None
        outputs = {key: value.numpy() for key, value in outputs.items()}
        if not request.rows:
            return {"outputs": {key: value.tolist() for key, value in outputs.items()}}
        count = len(next(iter(outputs.values())))
        return {"predictions": [{key: value[i].tolist() for key, value in outputs.items()} for i in range(count)]}


def _first_line(error: Exception) -> str:
    """What a failed input check in the SavedModel says, without TensorFlow's graph and node details."""
    text = getattr(error, "message", None) or str(error)
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(noise)]
    line = lines[0] if lines else type(error).__name__
    found = re.match(r"assertion failed: \[(.*?)\](?: \[|$)", line)
    return (found.group(1) if found else line)[:500]


class Explorer:
    """The explorer's routes, independent of the HTTP server: (method, path, body) -> (status, type, bytes)."""

    def __init__(
        self,
        export_dir: str,
        version: int | None = None,
        model_name: str = "infogan",
        backend: str | None = None,
        max_batch: int = 256,
        max_body_bytes: int = 4 << 20,
        max_concurrent: int = 8,
    ):
        self.version, self.saved_model_dir = find_version(export_dir, version)
        self.pinned = version is not None
        self.spec = read_latent_spec(self.saved_model_dir)
        self.model_name = model_name
        self.backend = backend.rstrip("/") if backend else None
        self.max_body_bytes = max_body_bytes
        self.servable = None if self.backend else Servable(self.saved_model_dir, max_batch)
        self.max_batch = max_batch
        self.max_concurrent = max_concurrent
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @functools.cached_property
    def metadata(self) -> dict:
        """The version's GET .../metadata answer, built once (the served SavedModel does not change)."""
        return model_metadata(self.servable.signature_defs, self.model_name, self.version)

    def page_config(self) -> dict:
        return {
            "model_name": self.model_name,
            "version": self.version,
            "pinned_version": self.pinned,
            "saved_model": os.path.abspath(self.saved_model_dir),
            "backend": self.backend,
            "max_batch": self.max_batch,
            "spec": self.spec,
        }

    def handle(self, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
        """Answers one request; every refusal is a JSON `{"error": ...}` with its status."""
        try:
            return self._route(method, path.split("?", 1)[0], body)
        except RequestError as error:
            return _json(error.status, {"error": str(error)})

    def _route(self, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
        if method == "GET" and path in PAGE_FILES:
            name, content_type = PAGE_FILES[path]
            return 200, content_type, resources.files("infogan_tf").joinpath("explorer", name).read_bytes()
        if method == "GET" and path == "/explorer/config.json":
            return _json(200, self.page_config())
        found = _MODEL_PATH.match(path)
        if not found:
            raise RequestError(404, f"No such page or API: {method} {path}")
        if (method == "POST") != bool(found["verb"]):
            raise RequestError(405, f"{method} is not allowed on {path}; predict is POST .../models/<name>:predict.")
        if not found["verb"]:
            return self._local_or_forwarded(method, path, body, found)
        if not self._slots.acquire(blocking=False):
            raise RequestError(
                429,
                f"{self.max_concurrent} predictions are already running (--max_concurrent); retry shortly.",
            )
        try:
            return self._local_or_forwarded(method, path, body, found)
        finally:
            self._slots.release()

    def _local_or_forwarded(self, method: str, path: str, body: bytes | None, found: re.Match):
        if self.backend:
            return self._forward(method, path, body)
        if found["label"] is not None:  # this server has no version labels, as a TF Serving without any
            raise RequestError(400, f"Unrecognized servable version label: {found['label']}")
        self._check_model(found["name"], found["version"])
        if method == "GET" and found["metadata"]:
            return _json(200, self.metadata)
        if method == "GET":
            state = {"state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            return _json(200, {"model_version_status": [{"version": str(self.version), **state}]})
        try:
            request = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError) as error:
            raise RequestError(400, f"JSON Parse error: {error}") from None
        if not isinstance(request, dict):
            raise RequestError(400, "The request body must be a JSON object.")
        return _json(200, self.servable.predict(request))

    def _check_model(self, name: str, version: str | None) -> None:
        if name != self.model_name or (version is not None and version != str(self.version)):
            wanted = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
            raise RequestError(
                404,
                f"Servable not found for request: {wanted}; this server has {self.model_name} version {self.version}.",
            )

    def _forward(self, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
        """The request as it came, to the TF Serving at --backend, and its answer as it came back."""
        request = urllib.request.Request(
            self.backend + path,
            data=body if method == "POST" else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, "application/json", response.read()
        except urllib.error.HTTPError as error:
            return error.code, "application/json", error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RequestError(502, f"Cannot reach TF Serving at --backend={self.backend} ({reason}).") from None


def _json(status: int, value: dict) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(value).encode()


def make_server(explorer: Explorer, host: str = "127.0.0.1", port: int = 8501) -> http.server.ThreadingHTTPServer:
    """An HTTP server for `explorer` (port 0 picks a free one); `serve_forever()` runs it."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60  # a client that stops sending mid-request frees its thread
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def do_GET(self):  # noqa: N802 (http.server's name)
            self._handle(None)

        def do_POST(self):  # noqa: N802
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self.close_connection = True
                return self._answer(*_json(411, {"error": "A predict request needs a Content-Length header."}))
            if int(length) > explorer.max_body_bytes:
                self.close_connection = True  # the body is not read: the connection cannot be reused
                limit = explorer.max_body_bytes
                message = f"The body of {length} bytes is over the limit of {limit} (--max_body_bytes)."
                return self._answer(*_json(413, {"error": message}))
            self._handle(self.rfile.read(int(length)))

        def _handle(self, body: bytes | None) -> None:
            try:
                answer = explorer.handle(self.command, self.path, body)
            except Exception as error:  # a bug, not the client's fault: say so, keep serving
                logging.exception("explorer: %s %s failed", self.command, self.path)
                answer = _json(500, {"error": f"Internal error: {type(error).__name__}: {error}"})
            self._answer(*answer)

        def send_error(self, code, message=None, explain=None):  # noqa: ARG002 (http.server's signature)
            """http.server's own refusals (unsupported method, bad request line, ...) as JSON, not HTML."""
            text = message or self.responses.get(code, ("Error",))[0]
            method = getattr(self, "command", None) or "request"
            if code == 501:
                text = f"{method} is not supported; use GET or POST (TF Serving's REST API)."
            payload = json.dumps({"error": text}).encode()
            self.log_error("code %d, message %s", code, text)
            self.send_response(code, message)
            self.send_header("Connection", "close")
            self.close_connection = True
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(payload)

        def _answer(self, status: int, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
            logging.debug("explorer: " + format, *args)

    class Server(http.server.ThreadingHTTPServer):
        # The listen backlog: http.server's 5 resets connections when tens of clients connect at once.
        request_queue_size = 128
        daemon_threads = True

    return Server((host, port), Handler)


FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command line (defined only when run, so importing the module defines no absl flags)."""
    flags.DEFINE_string("export_dir", None, "TF Serving model base path written by export.py (versions E/<N>).")
    flags.DEFINE_integer("version", None, "Version N of E/<N> to serve (default: the latest).")
    flags.DEFINE_string("host", "127.0.0.1", "Address to listen on; anything but loopback exposes the model.")
    flags.DEFINE_integer("port", 8501, "Port (TF Serving's REST port by default; 0 picks a free one).")
    flags.DEFINE_string("model_name", "infogan", "The model name in /v1/models/<name> (TF Serving's MODEL_NAME).")
    flags.DEFINE_string(
        "backend", None, "URL of a TF Serving REST API to forward predictions to, e.g. http://localhost:8501."
    )
    flags.DEFINE_integer("max_batch", 256, "Largest batch (or generate_from_seed num) one request may ask for.")
    flags.DEFINE_integer("max_body_bytes", 4 << 20, "Largest request body accepted, in bytes.")
    flags.DEFINE_integer(
        "max_concurrent", 8, "Predictions run at once; more are answered 429 at once (TF Serving's RESOURCE_EXHAUSTED)."
    )


def main(argv):
    del argv
    if not FLAGS.export_dir:
        raise SystemExit("error: --export_dir is required: the model base path export.py wrote (E, holding E/<N>/).")
    if FLAGS.max_concurrent < 1:
        raise SystemExit(f"error: --max_concurrent={FLAGS.max_concurrent} must be at least 1.")
    if FLAGS.backend and not re.match(r"^https?://", FLAGS.backend):
        raise SystemExit(f"error: --backend={FLAGS.backend} must be an http(s):// URL of TF Serving's REST API.")
    try:
        explorer = Explorer(
            FLAGS.export_dir,
            FLAGS.version,
            FLAGS.model_name,
            FLAGS.backend,
            FLAGS.max_batch,
            FLAGS.max_body_bytes,
            FLAGS.max_concurrent,
        )
        server = make_server(explorer, FLAGS.host, FLAGS.port)
    except ConfigError as error:
        raise SystemExit(f"error: {error}") from None
    except OSError as error:
        raise SystemExit(
            f"error: cannot listen on --host={FLAGS.host} --port={FLAGS.port} ({error.strerror})."
        ) from None
    host, port = server.server_address[:2]
    if explorer.backend:
        source = f"forwarding to {explorer.backend}"
    else:
        source = f"running {explorer.saved_model_dir}, {explorer.servable.warmup_requests} warm-up requests replayed"
    print(
        f"Latent explorer: http://{host}:{port}/  (model {explorer.model_name} version {explorer.version}, {source})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    define_flags()
    app.run(main)

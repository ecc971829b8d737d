"""A TF Serving client: asks an exported InfoGAN generator for images and writes a PNG grid.

Start TF Serving on an export directory E (the model base path; versions are E/1, E/2, ...), with its
gRPC (8500) and REST (8501) ports:

    docker run -p 8500:8500 -p 8501:8501 -v "$PWD/runs/digits/export:/models/infogan" -e MODEL_NAME=infogan \
        tensorflow/serving

then, over REST (standard library + numpy + Pillow) or gRPC (`PredictionService.Predict` from the
`tensorflow-serving-api` package):

    python examples/serving_client.py --url=http://localhost:8501 --seed=7 --num=16 --out=grid.png
    python examples/serving_client.py --protocol=grpc --target=localhost:8500 --seed=7 --num=16 --out=grid.png

Both ask `generate_from_seed` for {"seed": 7, "num": 16} (or `serving_default` with explicit `z` /
`categorical` / `continuous` from --latent_json) and tile the `images_uint8` output: the same grid.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import urllib.error
import urllib.request

import numpy as np
from PIL import Image


def predict(url: str, model: str, signature: str, inputs: dict, version: int | None = None, timeout=60) -> dict:
    """One TF Serving REST predict call (columnar `inputs` format); returns the `outputs` dict."""
    path = f"/v1/models/{model}" + (f"/versions/{version}" if version else "") + ":predict"
    body = json.dumps({"signature_name": signature, "inputs": inputs}).encode()
    request = urllib.request.Request(url.rstrip("/") + path, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())["outputs"]
    except urllib.error.HTTPError as error:  # TF Serving answers {"error": "..."} with a 4xx/5xx
        detail = error.read().decode(errors="replace")
        try:
            detail = json.loads(detail)["error"]
        except (ValueError, KeyError):
            pass
        raise SystemExit(f"error: {url}{path} answered {error.code}: {detail}") from None
    except urllib.error.URLError as error:
        raise SystemExit(f"error: cannot reach TF Serving at {url} ({error.reason}); is it running?") from None
    except TimeoutError:
        raise SystemExit(f"error: TF Serving at {url} did not answer within {timeout} s.") from None


# The dtypes of the exported signatures' inputs (docs/contract.md): gRPC tensors must carry exactly these.
INPUT_DTYPES = {"seed": "int64", "num": "int32", "z": "float32", "categorical": "int32", "continuous": "float32"}


def predict_grpc(target: str, model: str, signature: str, inputs: dict, version: int | None = None, timeout=60):
    """One TF Serving gRPC `PredictionService.Predict` call; returns the outputs as numpy arrays."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version:
        request.model_spec.version.value = version
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value, INPUT_DTYPES.get(key, "float32"))))
    with grpc.insecure_channel(target) as channel:
        try:
            response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=timeout)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                raise SystemExit(
                    f"error: cannot reach TF Serving's gRPC API at {target} ({error.details()}); is it running?"
                ) from None
            raise SystemExit(f"error: {target} answered {error.code().name}: {_one_line(error.details())}") from None
    return {key: tf.make_ndarray(value) for key, value in response.outputs.items()}


def _one_line(details: str) -> str:
    """A TensorFlow error's message without its graph and node details (a failed input check's text)."""
    found = re.search(r"assertion failed: \[(.*?)\](?: \[|$)", details, re.MULTILINE)
    return found.group(1) if found else details.strip().splitlines()[0] if details.strip() else "(no details)"


def grid(images: np.ndarray, cols: int | None = None) -> np.ndarray:
    """[N, H, W, C] uint8 -> one [rows * H, cols * W, C] image (blank cells at the end)."""
    n, h, w, c = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    padded = np.zeros((rows * cols, h, w, c), np.uint8)
    padded[:n] = images
    return padded.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", choices=("rest", "grpc"), default="rest")
    parser.add_argument("--url", default="http://localhost:8501", help="TF Serving's REST API (--protocol=rest)")
    parser.add_argument("--target", default="localhost:8500", help="TF Serving's gRPC host:port (--protocol=grpc)")
    parser.add_argument("--model", default="infogan")
    parser.add_argument("--version", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--latent_json", default=None, help="a JSON file with z / categorical / continuous lists")
    parser.add_argument("--out", default="grid.png")
    args = parser.parse_args()

    if args.latent_json:
        with open(args.latent_json) as f:
            signature, inputs = "serving_default", json.load(f)
    else:
        signature, inputs = "generate_from_seed", {"seed": args.seed, "num": args.num}
    if args.protocol == "grpc":
        outputs = predict_grpc(args.target, args.model, signature, inputs, args.version)
    else:
        outputs = predict(args.url, args.model, signature, inputs, args.version)
    images = np.asarray(outputs["images_uint8"], np.uint8)
    tiled = grid(images)
    Image.fromarray(tiled[..., 0] if tiled.shape[-1] == 1 else tiled).save(args.out)
    print(f"{args.out}: {len(images)} images of {'x'.join(map(str, images.shape[1:]))}")


if __name__ == "__main__":
    main()

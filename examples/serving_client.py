"""A TF Serving REST client: asks an exported InfoGAN generator for images and writes a PNG grid.

Start TF Serving on an export directory E (the model base path; versions are E/1, E/2, ...):

    docker run -p 8501:8501 -v "$PWD/runs/shapes/export:/models/infogan" -e MODEL_NAME=infogan tensorflow/serving

then

    python examples/serving_client.py --url=http://localhost:8501 --model=infogan --seed=7 --num=16 --out=grid.png

It POSTs `/v1/models/<model>:predict` with `{"signature_name": "generate_from_seed", "inputs":
{"seed": 7, "num": 16}}` (or `serving_default` with explicit `z` / `categorical` / `continuous` from
--latent_json) and tiles the `images_uint8` output. Standard library + numpy + Pillow only.
"""

from __future__ import annotations

import argparse
import json
import math
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
    parser.add_argument("--url", default="http://localhost:8501")
    parser.add_argument("--model", default="infogan")
    parser.add_argument("--version", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num", type=int, default=16)
    parser.add_argument("--latent_json", default=None, help="a JSON file with z / categorical / continuous lists")
    parser.add_argument("--out", default="grid.png")
    args = parser.parse_args()

    if args.latent_json:
        with open(args.latent_json) as f:
            outputs = predict(args.url, args.model, "serving_default", json.load(f), args.version)
    else:
        outputs = predict(
            args.url, args.model, "generate_from_seed", {"seed": args.seed, "num": args.num}, args.version
        )
    images = np.asarray(outputs["images_uint8"], np.uint8)
    tiled = grid(images)
    Image.fromarray(tiled[..., 0] if tiled.shape[-1] == 1 else tiled).save(args.out)
    print(f"{args.out}: {len(images)} images of {'x'.join(map(str, images.shape[1:]))}")


if __name__ == "__main__":
    main()

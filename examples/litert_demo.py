"""Runs an exported generator on LiteRT, as a mobile app would: numpy, ai-edge-litert and Pillow (to write
the PNG), no TensorFlow.

python examples/litert_demo.py --tflite_dir=runs/shapes/export/tflite --out=traversal.png [--code=cat0]

Writes a latent traversal: rows are noise samples, columns the values of one code (all K categories
of a categorical code, or -2..2 in 9 steps for a continuous one), like the paper's figures.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image  # only to write the PNG


def traversal_inputs(spec: dict, code: str, rows: int, seed: int) -> tuple[dict[str, np.ndarray], int]:
    """Inputs for `serving_default`: `rows` noise samples x the values of `code`."""
    rng = np.random.default_rng(seed)
    ks, n_cont = spec["categorical"], spec["continuous"]
    categorical = code.startswith("cat")
    index = int(code[3:] if categorical else code[4:])
    values = list(range(ks[index])) if categorical else list(np.linspace(-2, 2, 9))
    cols = len(values)
    base = {
        "z": rng.uniform(-1, 1, (rows, spec["noise_dim"])),
        "categorical": np.stack([rng.integers(0, k, rows) for k in ks], 1) if ks else np.zeros((rows, 0)),
        "continuous": rng.uniform(-1, 1, (rows, n_cont)),
    }
    inputs = {name: np.repeat(value, cols, axis=0) for name, value in base.items()}
    column = np.tile(np.asarray(values), rows)
    inputs["categorical" if categorical else "continuous"][:, index] = column
    dtypes = {"z": np.float32, "categorical": np.int32, "continuous": np.float32}
    present = {"z": spec["noise_dim"] > 0, "categorical": bool(ks), "continuous": n_cont > 0}
    return {k: v.astype(dtypes[k]) for k, v in inputs.items() if present[k]}, cols


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tflite_dir", required=True, help="E/tflite of an export (with latent_spec.json).")
    parser.add_argument("--model", default="generator.tflite", help="which .tflite file in --tflite_dir")
    parser.add_argument("--code", default=None, help="cat<i> or cont<j> (default: the first code)")
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="traversal.png")
    args = parser.parse_args()

    with open(os.path.join(args.tflite_dir, "latent_spec.json")) as f:
        spec = json.load(f)
    codes = [f"cat{i}" for i in range(len(spec["categorical"]))] + [f"cont{j}" for j in range(spec["continuous"])]
    code = args.code or codes[0]
    if code not in codes:
        parser.error(f"--code={code} is not one of {', '.join(codes)}")
    inputs, cols = traversal_inputs(spec, code, args.rows, args.seed)
    runner = Interpreter(model_path=os.path.join(args.tflite_dir, args.model)).get_signature_runner("serving_default")
    images = runner(**inputs)["images_uint8"]  # [rows * cols, H, W, C]
    h, w, c = images.shape[1:]
    grid = images.reshape(args.rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(args.rows * h, cols * w, c)
    Image.fromarray(grid[..., 0] if c == 1 else grid).save(args.out)
    print(f"{args.out}: {code} traversal, {args.rows} x {cols} images of {h}x{w}x{c}")


if __name__ == "__main__":
    main()

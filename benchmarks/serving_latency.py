"""Generator serving latency: the SavedModel's `serving_default` and each TFLite file on LiteRT.

python benchmarks/serving_latency.py --export_dir=runs/shapes/export [--version=N] [--repeats=50]

Prints one line per (model, batch) with the median and the 10th-90th percentile per call, after
warm-up calls, plus the files' sizes; then G's FLOPs per call and the time they take at this machine's
float32 matmul rate (`infogan_tf.performance`), the floor a batch's latency is measured against.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from infogan_tf import export, models, performance
from infogan_tf.latent import LatentSpec


def _time(call, repeats: int) -> tuple[float, float, float]:
    for _ in range(5):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    deciles = statistics.quantiles(times, n=10)
    return statistics.median(times) * 1e3, deciles[0] * 1e3, deciles[-1] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export_dir", required=True)
    parser.add_argument("--version", default=None)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--batches", default="1,64")
    args = parser.parse_args()
    version = args.version or max((d for d in os.listdir(args.export_dir) if d.isdigit()), key=int)
    saved_model = os.path.join(args.export_dir, version)
    with open(os.path.join(saved_model, "assets", "latent_spec.json")) as f:
        spec = json.load(f)
    latent_spec = LatentSpec(spec["noise_dim"], tuple(spec["categorical"]), spec["continuous"])
    serve = tf.saved_model.load(saved_model).signatures["serving_default"]
    lite_dir = os.path.join(args.export_dir, "tflite")
    lite = sorted(f for f in os.listdir(lite_dir) if f.endswith(".tflite")) if os.path.isdir(lite_dir) else []
    for batch in (int(b) for b in args.batches.split(",")):
        inputs = export.sample_inputs(latent_spec, batch)
        tensors = {k: tf.constant(v) for k, v in inputs.items()}
        median, low, high = _time(lambda tensors=tensors: serve(**tensors)["images"].numpy(), args.repeats)
        print(f"savedmodel batch={batch} median_ms={median:.3f} p10_ms={low:.3f} p90_ms={high:.3f}")
        for name in lite:
            runner = Interpreter(model_path=os.path.join(lite_dir, name)).get_signature_runner("serving_default")
            median, low, high = _time(lambda runner=runner, inputs=inputs: runner(**inputs)["images"], args.repeats)
            size = os.path.getsize(os.path.join(lite_dir, name))
            print(f"{name} batch={batch} median_ms={median:.3f} p10_ms={low:.3f} p90_ms={high:.3f} bytes={size}")
    if "architecture" in spec:  # exports before this field cannot say which networks they hold
        generator = models.Generator(latent_spec, spec["architecture"], tuple(spec["image_shape"]))
        peak = performance.matmul_peak_gflop_per_s()
        for batch in (int(b) for b in args.batches.split(",")):
            flops = performance.generator_flops(generator, batch)
            print(
                f"generator batch={batch} gflop={flops / 1e9:.4f} floor_ms_at_peak={flops / peak / 1e6:.3f} "
                f"peak_gflop_per_s={peak:.1f}"
            )


if __name__ == "__main__":
    main()

"""The benchmark scripts run the project's own code path (correctness only; timings go to BUILD_NOTES)."""

import dataclasses
import importlib.util
import os

from infogan_tf import config as config_lib

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO_ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_throughput_times_the_real_training_step():
    throughput = _load("train_throughput")
    # With no flags it measures train.py's default for the MNIST preset.
    assert throughput.PRESET == config_lib.PRESETS["mnist"] and throughput.FLAGS["steps"].default == 100
    config = dataclasses.replace(throughput.PRESET, batch_size=8)
    result = throughput.measure(config, steps=2, repeats=1)
    assert result["images_per_s"] > 0 and result["seconds_per_step"] > 0

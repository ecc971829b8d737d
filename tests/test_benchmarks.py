"""The benchmark scripts run the project's own code path (correctness only; timings go to BUILD_NOTES)."""

import dataclasses
import importlib.util
import os

import pytest

from infogan_tf import config as config_lib
from infogan_tf import models, performance

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO_ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_throughput_times_the_real_training_step():
    throughput = _load("train_throughput")
    # With no flags it measures train.py's default for the MNIST preset, resolved as train.py resolves it.
    throughput.FLAGS(["train_throughput.py"])
    try:
        assert throughput.cli.config_from_flags() == config_lib.PRESETS["mnist"]
    finally:
        throughput.FLAGS.unparse_flags()
    config = dataclasses.replace(config_lib.PRESETS["mnist"], batch_size=8, jit_compile=False)
    result = throughput.measure(config, steps=2, repeats=1)
    assert result["images_per_s"] > 0 and result["seconds_per_step"] > 0 and result["input_images_per_s"] > 0
    assert 0 < result["dispatch_overhead"] < 1 and result["mixed_precision"] == "none"
    # The step's model FLOPs: the paper's MNIST G and D are 26.4 MFLOP per image forward (13.2 M
    # multiply-adds each, mostly FC 1024x6272 and the 4x4 64<->128 convolutions); 3 G + 8 D per step.
    generator, discriminator = models.build_models(config)
    flops = performance.step_flops(generator, discriminator, config)
    assert flops / 8 == pytest.approx(3 * 26.36e6 + 8 * 26.42e6, rel=0.01)
    assert performance.generator_flops(generator, 1) == pytest.approx(26.36e6, rel=0.01)


def test_compare_peer_alternates_and_reports_ratios_of_medians(monkeypatch, capsys):
    compare = _load("compare_peer")
    calls, rates = [], {"peer": [100.0, 120.0, 110.0], "fp32": [150.0, 90.0, 160.0]}

    def fake_run(command):
        name = "peer" if "peer.py" in command[1] else "fp32"
        calls.append((name, next(arg for arg in command if arg.startswith("--batch"))))
        assert name == "peer" or "--nojit_compile" in command
        return rates[name].pop(0)

    monkeypatch.setattr(compare, "run", fake_run)
    argv = ["compare_peer.py", "--peer_python=python", "--peer_script=peer.py", "--batches=64", "--variants=fp32"]
    monkeypatch.setattr("sys.argv", argv)
    compare.main()
    # A B A B: the peer, then ours, in every round.
    assert calls == [("peer", "--batch=64"), ("fp32", "--batch_size=64")] * 3
    out = capsys.readouterr().out
    assert "| peer | 64 | 110.0 (100.0-120.0) | 1.00x |" in out
    assert "| fp32 | 64 | 150.0 (90.0-160.0) | 1.36x |" in out

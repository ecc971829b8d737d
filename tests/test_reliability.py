"""A run never costs the user their work: NaN guard, unreadable checkpoints, SIGTERM / SIGINT."""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import config as config_lib
from infogan_tf import datasets, figures, preemption
from infogan_tf.train import TrainingDiverged, train_and_evaluate

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def tiny(shapes_config):
    """The shapes preset with a small network input (noise 4, 1 continuous), 2 steps per chunk."""
    return dataclasses.replace(shapes_config, noise_dim=4, continuous=1, steps=6, eval_every=6, sample_every=6)


def _checkpoint_steps(workdir) -> list[int]:
    return sorted(int(p.rsplit("-", 1)[1].split(".")[0]) for p in glob.glob(f"{workdir}/checkpoints/ckpt-*.index"))


def test_nan_stops_at_the_step_it_appears_and_keeps_the_last_good_checkpoint(tiny, tmp_path, monkeypatch):
    source = datasets.get(tiny.dataset)
    clean = source.train_dataset

    def poisoned(config):  # the 5th batch (step 5) holds a NaN pixel
        index = tf.data.Dataset.range(10**9)
        return tf.data.Dataset.zip(clean(config), index).map(
            lambda images, i: tf.where(tf.equal(i, 4), images + np.nan, images)
        )

    monkeypatch.setattr(source, "train_dataset", poisoned)
    workdir = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match=r"d_loss became nan at step 5; training stopped, the last checkpoint"):
        train_and_evaluate(dataclasses.replace(tiny, steps=8), str(workdir))
    assert _checkpoint_steps(workdir) == [2, 4]  # nothing written at or after the bad step
    reader = tf.train.load_checkpoint(str(workdir / "checkpoints" / "ckpt-4"))
    floats = [name for name, dtype in reader.get_variable_to_dtype_map().items() if dtype.is_floating]
    assert len(floats) > 20
    for name in floats:
        assert np.all(np.isfinite(reader.get_tensor(name))), name


def test_unreadable_latest_checkpoint_falls_back_to_the_one_before(tiny, tmp_path, caplog):
    workdir = tmp_path / "run"
    train_and_evaluate(dataclasses.replace(tiny, steps=4), str(workdir))
    assert _checkpoint_steps(workdir) == [2, 4]
    (data,) = glob.glob(f"{workdir}/checkpoints/ckpt-4.data-*")
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    (workdir / "checkpoints" / "checkpoint").write_text("garbled {{{")  # TF's state file too
    with caplog.at_level(logging.WARNING):
        train_and_evaluate(tiny, str(workdir))
    assert "ckpt-4 cannot be read" in caplog.text and "Resuming from" in caplog.text
    rows = [row["step"] for row in figures.read_metrics(str(workdir))]
    assert rows == [2, 4, 6]  # steps 3-4 were trained again from step 2, once each in the log

    # Nothing readable at all: a clear error, and the checkpoints are left where they are.
    for index in glob.glob(f"{workdir}/checkpoints/ckpt-*.index"):
        with open(index, "wb") as f:
            f.write(b"not an index")
    with pytest.raises(config_lib.ConfigError, match=r"None of the 3 checkpoints in .* can be read; move"):
        train_and_evaluate(dataclasses.replace(tiny, steps=8), str(workdir))
    assert _checkpoint_steps(workdir) == [2, 4, 6]


def test_stop_on_signals_sets_the_flag_and_restores_the_handlers():
    flag = tf.Variable(False)
    before = signal.getsignal(signal.SIGINT)
    with preemption.StopOnSignals(flag) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 5
        while not bool(flag.numpy()) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bool(flag.numpy()) and stop.received == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is before


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    workdir = tmp_path / "run"
    command = [sys.executable, "train.py", f"--workdir={workdir}", "--steps=100000", "--batch_size=8"]
    command += ["--noise_dim=4", "--continuous=1", "--log_every=1", "--checkpoint_every=100000"]
    command += ["--sample_every=100000", "--eval_every=100000", "--eval_samples=16", "--nojit_compile"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in process.stderr:  # wait until training is under way
            lines.append(line)
            if "step 2/100000" in line:
                break
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    stderr = "".join(lines) + rest
    assert process.returncode == 0, stderr[-3000:]
    message = [line for line in stderr.splitlines() if "SIGTERM at step" in line]
    assert message and "checkpoint saved" in message[0] and "run the same command to resume" in message[0]
    stopped_at = int(message[0].split("SIGTERM at step ")[1].split(":")[0])
    assert stopped_at >= 2 and _checkpoint_steps(workdir) == [stopped_at]
    assert "Traceback" not in stderr


def _float_tensors(workdir) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(workdir / "checkpoints")))
    names = [
        name for name, dtype in reader.get_variable_to_dtype_map().items() if dtype.is_floating or dtype.is_integer
    ]
    return {name: reader.get_tensor(name) for name in names if "OBJECT_GRAPH" not in name}


def test_kill_9_at_a_random_step_then_resume_equals_the_uninterrupted_run_bit_for_bit(tmp_path):
    flags = ["--deterministic", "--steps=7", "--batch_size=8", "--noise_dim=4", "--continuous=1", "--log_every=1"]
    flags += ["--checkpoint_every=2", "--sample_every=100", "--eval_every=100", "--eval_samples=16"]
    # With InfoGAN-CR's regulariser: the classifier, its optimiser and the pairs' draws resume exactly too;
    # and with the step's options (G's own latents, Q with G's optimiser, z scaled in G, lReLU 0.01).
    flags += ["--cr_weight=1", "--fresh_g_latents", "--q_optimizer=g", "--noise_scale=0.25", "--leaky_slope=0.01"]
    # Elastic-InfoGAN's augmented pairs: their draws follow the data iterator's checkpoint.
    flags += ["--elastic_weight=10"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")

    def command(workdir):
        return [sys.executable, "train.py", f"--workdir={workdir}", *flags]

    # The uninterrupted run alongside the killed one (each its own process; they share nothing).
    whole_log = open(tmp_path / "whole.log", "wb")  # a file, not a pipe: nothing waits on a reader
    whole = subprocess.Popen(command(tmp_path / "whole"), cwd=REPO_ROOT, env=env, stdout=whole_log, stderr=whole_log)
    kill_at = int(np.random.default_rng().integers(3, 7))  # after the step-2 checkpoint, before the end
    process = subprocess.Popen(command(tmp_path / "killed"), cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if f"step {kill_at}/7" in line:
                process.send_signal(signal.SIGKILL)  # no handler, no clean-up: the machine died
                break
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    assert max(_checkpoint_steps(tmp_path / "killed")) < 7
    resumed = subprocess.run(command(tmp_path / "killed"), cwd=REPO_ROOT, env=env, capture_output=True, timeout=300)
    whole.wait(timeout=300)
    whole_log.close()
    assert whole.returncode == 0, (tmp_path / "whole.log").read_text()[-3000:]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert b"Resumed from" in resumed.stderr

    expected, actual = _float_tensors(tmp_path / "whole"), _float_tensors(tmp_path / "killed")
    assert expected.keys() == actual.keys() and len(expected) > 40
    assert any(name.startswith("cr_classifier/") for name in expected)
    assert any(name.startswith("cr_optimizer/") for name in expected)
    different = [name for name in expected if not np.array_equal(expected[name], actual[name])]
    assert not different, f"killed at step {kill_at}; differ: {different[:5]}"

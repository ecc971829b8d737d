"""MultiWorkerMirroredStrategy across two processes on 127.0.0.1 (TF_CONFIG), with hard timeouts:
a worker whose peer never comes blocks forever and ignores SIGTERM, so every worker is SIGKILLed."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from infogan_tf import figures
from infogan_tf.gan import InfoGAN

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "helpers"))
import multi_worker_step  # noqa: E402
from same_update import assert_same_update  # noqa: E402


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _run_workers(commands: list[list[str]], timeout: float = 240) -> list[subprocess.CompletedProcess]:
    """Runs commands[i] as worker i of one cluster on 127.0.0.1; SIGKILLs every worker at the timeout."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(len(commands))]}
    processes = []
    for index, command in enumerate(commands):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        env = dict(os.environ, TF_CONFIG=tf_config, TF_CPP_MIN_LOG_LEVEL="2")
        processes.append(
            subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    results = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    except subprocess.TimeoutExpired:
        pytest.fail(f"a worker did not finish within {timeout} s (killed)")
    finally:
        for process in processes:
            process.kill()
    return results


def test_two_workers_make_the_same_update_as_one_device(tmp_path):
    single = InfoGAN(multi_worker_step.CONFIG, tf.distribute.get_strategy())
    variables = single.generator.variables + single.discriminator.variables
    initial = [v.numpy() for v in variables]
    np.savez(tmp_path / "initial.npz", *initial)
    multi_worker_step.linear_adam(single)
    tf.function(single.replica_step)(*multi_worker_step.fixed_batch(single.spec))
    expected = [v.numpy() for v in variables]

    script = os.path.join(REPO_ROOT, "tests", "helpers", "multi_worker_step.py")
    outputs = [tmp_path / "worker0.npz", tmp_path / "worker1.npz"]
    command = [sys.executable, script, str(tmp_path / "initial.npz")]
    for worker in _run_workers([[*command, str(out)] for out in outputs]):
        assert worker.returncode == 0, worker.stderr[-3000:]
    workers = [np.load(out) for out in outputs]
    largest_update = 0.0
    for i, variable in enumerate(variables):
        np.testing.assert_array_equal(workers[0][f"arr_{i}"], workers[1][f"arr_{i}"], err_msg=variable.path)
        update = assert_same_update(variable.path, variable.trainable, workers[0][f"arr_{i}"], expected[i], initial[i])
        largest_update = max(largest_update, update)
    assert largest_update > 1e-5


def test_train_py_on_two_workers_stays_in_sync_and_only_the_chief_writes(tmp_path):
    workdir = tmp_path / "run"
    flags = ["--strategy=multi_worker", "--steps=3", "--batch_size=8", "--noise_dim=4", "--continuous=1"]
    flags += ["--log_every=1", "--checkpoint_every=2", "--sample_every=3", "--eval_every=3", "--eval_samples=16"]
    command = [sys.executable, "train.py", f"--workdir={workdir}", *flags]
    chief, other = _run_workers([command, command])
    for worker in (chief, other):
        assert worker.returncode == 0, worker.stderr[-3000:]
    fingerprints = [re.findall(r"Weights at step 3: fingerprint ([0-9a-f]+)", w.stderr) for w in (chief, other)]
    assert fingerprints[0] and fingerprints[0] == fingerprints[1]
    assert "step 3/3" in chief.stderr and "step 3/3" in other.stderr
    # The chief wrote everything once; the other worker wrote nothing in the workdir.
    rows = [row["step"] for row in figures.read_metrics(str(workdir))]
    assert rows == [1, 2, 3]
    assert json.loads((workdir / "eval.json").read_text())["step"] == 3
    assert sorted(p.name for p in (workdir / "checkpoints").glob("*.index")) == ["ckpt-2.index", "ckpt-3.index"]

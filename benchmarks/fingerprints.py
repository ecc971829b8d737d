"""Weight fingerprints of four short `--deterministic` runs: proof that a refactor kept training the same.

python benchmarks/fingerprints.py                      # this checkout's train.py
python benchmarks/fingerprints.py --repo=/tmp/before   # another checkout (git worktree add /tmp/before REV)

Each run ends with the line `Weights at step N: fingerprint H` (a SHA-256 of every network variable,
`InfoGAN.fingerprint`). A change that keeps behaviour gives the same four hashes as the revision before
it, run on the same machine (runs are exact on one machine only). The runs, on `digits`, 30 steps each:
- `digits`: the preset as it is;
- `lambda0`: the regular-GAN baseline (`--info_weight_cat=0 --info_weight_cont=0`);
- `cr`: InfoGAN-CR's regulariser from step 10, two G updates per step and spectral norm in D/Q;
- `mirrored`: MirroredStrategy over two logical CPU devices.
Also printed: whether a default (non-deterministic) run compiled its step with XLA and at what images/s.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("repo", os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Checkout to run.")
flags.DEFINE_list("runs", ["digits", "lambda0", "cr", "mirrored", "xla"], "Which runs.")

COMMON = ["--dataset=digits", "--steps=30", "--log_every=10", "--checkpoint_every=30", "--sample_every=30"]
COMMON += ["--eval_every=30", "--eval_samples=64", "--deterministic"]
RUNS = {
    "digits": [],
    "lambda0": ["--info_weight_cat=0", "--info_weight_cont=0"],
    "cr": ["--cr_weight=1", "--cr_start_step=10", "--g_steps=2", "--spectral_norm"],
    "mirrored": ["--strategy=mirrored", "--logical_cpus=2"],
}
# A default run: XLA decided by the machine (infogan_tf.performance), enough steps for a rate.
XLA_RUN = ["--dataset=digits", "--steps=300", "--log_every=100", "--checkpoint_every=300", "--sample_every=300"]
XLA_RUN += ["--eval_every=300", "--eval_samples=64"]


def run(repo: str, flags_: list[str]) -> str:
    with tempfile.TemporaryDirectory() as workdir:
        command = [sys.executable, os.path.join(repo, "train.py"), f"--workdir={workdir}", *flags_]
        done = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        with open(os.path.join(workdir, "config.json")) as f:
            jit = '"jit_compile": true' in f.read()
        return done.stderr + f"\njit_compile={jit}"


def main(argv):
    del argv
    for name in FLAGS.runs:
        if name == "xla":
            log = run(FLAGS.repo, XLA_RUN)
            rates = re.findall(r"\| (\d+) img/s", log)
            jit = re.findall(r"jit_compile=(\w+)", log)[-1]
            print(f"xla: jit_compile={jit}, images/s per log line {', '.join(rates)}")
            continue
        log = run(FLAGS.repo, COMMON + RUNS[name])
        found = re.findall(r"Weights at step (\d+): fingerprint ([0-9a-f]+)", log)
        print(f"{name}: step {found[-1][0]} fingerprint {found[-1][1]}  ({' '.join(RUNS[name]) or 'preset'})")


if __name__ == "__main__":
    app.run(main)

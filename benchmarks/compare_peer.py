"""Side-by-side training throughput: infogan_tf's MNIST step against a peer script, alternated A B A B.

python benchmarks/compare_peer.py --peer_python=/path/to/torch-venv/bin/python \
    [--peer_script=benchmarks/peer_torch_infogan_mnist.py] [--batches=64,128] [--rounds=3]

The peer script defaults to `benchmarks/peer_torch_infogan_mnist.py`, the same InfoGAN MNIST step in
PyTorch (`pip install torch numpy` into the venv of --peer_python; the repo does not depend on torch).

Each round runs, per batch size, the peer once and then every variant of
`benchmarks/train_throughput.py` once, each in its own process, so a noisy neighbour hits all of them
alike. The table gives, per variant and batch, the median images/s over the rounds (min-max beside it)
and the ratio of medians to the peer's. Both sides end their output with `images_per_s=<N>`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

# Variant name -> train_throughput.py flags. `default` is exactly what train.py runs with no flags.
VARIANTS = {
    "default": [],
    "fp32": ["--nojit_compile", "--mixed_precision=none"],
    "xla": ["--jit_compile", "--mixed_precision=none"],
    "bf16": ["--nojit_compile", "--mixed_precision=bf16"],
    "xla_bf16": ["--jit_compile", "--mixed_precision=bf16"],
}
_RESULT = re.compile(r"\bimages_per_s=([0-9.]+)\s*$", re.MULTILINE)


def run(command: list[str]) -> float:
    """Runs one benchmark process and returns its images/s."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # infogan_tf importable uninstalled
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    found = _RESULT.findall(done.stdout)
    if done.returncode or not found:
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return float(found[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer_python", required=True, help="A Python that has the peer's framework.")
    parser.add_argument(
        "--peer_script",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_torch_infogan_mnist.py"),
        help="Takes --batch and --steps (default: the PyTorch InfoGAN MNIST step beside this script).",
    )
    parser.add_argument("--peer_steps", type=int, default=40)
    parser.add_argument("--batches", default="64,128")
    parser.add_argument("--variants", default="default,fp32,xla,bf16,xla_bf16")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="Steps per timed call of ours.")
    parser.add_argument("--repeats", type=int, default=3, help="Timed calls of ours per run (median).")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"--variants: unknown {unknown}; choose from {sorted(VARIANTS)}.")
    ours = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train_throughput.py")
    results: dict[tuple[str, int], list[float]] = {}
    for round_ in range(args.rounds):
        for batch in batches:
            peer = [args.peer_python, args.peer_script, f"--batch={batch}", f"--steps={args.peer_steps}"]
            results.setdefault(("peer", batch), []).append(run(peer))
            for name in variants:
                command = [sys.executable, ours, f"--batch_size={batch}", f"--steps={args.steps}"]
                command += [f"--repeats={args.repeats}", *VARIANTS[name]]
                results.setdefault((name, batch), []).append(run(command))
            row = ", ".join(f"{n} {results[(n, batch)][-1]:.1f}" for n in ["peer", *variants])
            print(f"round {round_ + 1} batch {batch}: {row}", flush=True)
    print("\n| variant | batch | images/s median (min-max) | ratio to peer |\n|---|---|---|---|")
    for batch in batches:
        peer = statistics.median(results[("peer", batch)])
        for name in ["peer", *variants]:
            values = results[(name, batch)]
            median = statistics.median(values)
            print(f"| {name} | {batch} | {median:.1f} ({min(values):.1f}-{max(values):.1f}) | {median / peer:.2f}x |")


if __name__ == "__main__":
    main()

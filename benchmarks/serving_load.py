"""Load on the latent explorer's TF Serving REST API: throughput and latency of one-image predicts.

python benchmarks/serving_load.py --export_dir=runs/digits/export [--clients=1,8,32] [--seconds=10]

Starts `python -m infogan_tf.explore` on the export in its own process, then for each number of
concurrent keep-alive clients (threads here, one HTTP/1.1 connection each) sends one-image
`serving_default` predicts for --seconds, first all well-formed, then with every --malformed_every-th
request malformed (bad JSON, a wrong shape, an out-of-range category, an unknown signature). Prints a
Markdown table: requests/s, p50 and p99 latency of the good and of the malformed requests, statuses
that were not the expected ones, and the server's resident memory and thread count before and after.
A last row sends --overload_clients at once to a server that runs --max_concurrent predictions:
those over the cap must be answered 429 at once, not queued. First, the latency of the first request of
each signature after start-up, with the version's warm-up records replayed and from a copy without them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from infogan_tf.export import sample_inputs
from infogan_tf.latent import LatentSpec

GOOD = 200


def _latent_spec(export_dir: str) -> dict:
    version = max((d for d in os.listdir(export_dir) if d.isdigit()), key=int)
    with open(os.path.join(export_dir, version, "assets", "latent_spec.json")) as f:
        return json.load(f)


def one_image_body(spec: dict, seed: int) -> bytes:
    """A `serving_default` predict of one image, columnar, with the latent `export.sample_inputs` draws."""
    latent = LatentSpec(spec["noise_dim"], tuple(spec["categorical"]), spec["continuous"])
    inputs = {key: value.tolist() for key, value in sample_inputs(latent, 1, seed).items()}
    return json.dumps({"signature_name": "serving_default", "inputs": inputs}).encode()


def _post(connection: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    """One predict on a (keep-alive) connection: (status, body)."""
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def malformed_bodies(spec: dict) -> list[tuple[bytes, int]]:
    """(body, expected status) of requests the server must refuse with a 400 and go on serving."""
    good = json.loads(one_image_body(spec, 0))
    wrong_shape = json.loads(json.dumps(good))
    key = next(iter(wrong_shape["inputs"]))
    wrong_shape["inputs"][key] = [[0.0]]
    bodies = [(b'{"signature_name": "serving_default", "inputs": ', 400), (json.dumps(wrong_shape).encode(), 400)]
    if spec["categorical"]:
        out_of_range = json.loads(json.dumps(good))
        out_of_range["inputs"]["categorical"] = [[k for k in spec["categorical"]]]
        bodies.append((json.dumps(out_of_range).encode(), 400))
    bodies.append((json.dumps({**good, "signature_name": "nope"}).encode(), 400))
    return bodies


class PeakSampler:
    """Samples a process's resident memory and threads every 20 ms while in use: the peaks."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, (0.0, 0), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, threads = server_memory(self.pid)
            self.peak = (max(self.peak[0], rss), max(self.peak[1], threads))
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def server_memory(pid: int) -> tuple[float, int]:
    """(resident MiB, threads) of a process, from /proc."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return int(fields["VmRSS"][0]) / 1024, int(fields["Threads"][0])


def start_server(export_dir: str, max_concurrent: int) -> tuple[subprocess.Popen, str]:
    command = [
        sys.executable,
        "-m",
        "infogan_tf.explore",
        f"--export_dir={export_dir}",
        "--port=0",
        f"--max_concurrent={max_concurrent}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line.startswith("Latent explorer: http://"):
        process.kill()
        raise SystemExit(f"error: the explorer did not start on --export_dir={export_dir}: {line.strip()}")
    return process, line.split()[2].rstrip("/").removeprefix("http://")


def load(
    address: str,
    spec: dict,
    clients: int,
    seconds: float,
    malformed_every: int = 0,
    model: str = "infogan",
) -> dict:
    """`clients` keep-alive connections predicting for `seconds`: latencies by kind, and odd statuses."""
    path = f"/v1/models/{model}:predict"
    bad = malformed_bodies(spec)
    latencies = {"good": [], "malformed": []}
    unexpected, statuses, lock = [], {}, threading.Lock()
    deadline = time.perf_counter() + seconds
    start_gate = threading.Barrier(clients)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(address, timeout=120)
        start_gate.wait()
        sent = 0
        while time.perf_counter() < deadline:
            sent += 1
            if malformed_every and sent % malformed_every == 0:
                body, expected = bad[(sent // malformed_every + index) % len(bad)]
                kind = "malformed"
            else:
                body, expected, kind = one_image_body(spec, index * 1_000_003 + sent), GOOD, "good"
            began = time.perf_counter()
            try:
                status, payload = _post(connection, path, body)
            except (OSError, http.client.HTTPException) as error:
                status, payload = type(error).__name__, b""
                connection.close()
                connection = http.client.HTTPConnection(address, timeout=120)
            elapsed = time.perf_counter() - began
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == expected:
                    latencies[kind].append(elapsed)
                elif status != 429:  # over --max_concurrent: refused by design, counted in statuses
                    unexpected.append((status, payload[:200]))
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    answered = sum(statuses.values())
    result = {
        "clients": clients,
        "requests_per_s": answered / wall,
        "served_per_s": statuses.get(GOOD, 0) / wall,
        "statuses": statuses,
        "unexpected": unexpected,
    }
    for kind, values in latencies.items():
        if len(values) >= 2:
            centiles = statistics.quantiles(values, n=100)
            result[kind] = {"n": len(values), "p50_ms": centiles[49] * 1e3, "p99_ms": centiles[98] * 1e3}
    return result


def overload(address: str, spec: dict, clients: int, model: str = "infogan") -> dict:
    """`clients` predicts released at once: how many were served, refused with 429, and how fast a 429 came."""
    path = f"/v1/models/{model}:predict"
    gate, lock, answers = threading.Barrier(clients), threading.Lock(), []

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(address, timeout=120)
        body = one_image_body(spec, index)
        connection.connect()
        gate.wait()
        began = time.perf_counter()
        status, payload = _post(connection, path, body)
        error = json.loads(payload).get("error") if status != GOOD else None
        with lock:
            answers.append((status, time.perf_counter() - began, error))
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [seconds for status, seconds, _ in answers if status == 429]
    return {
        "clients": clients,
        "served": sum(status == GOOD for status, _, _ in answers),
        "refused_429": len(refused),
        "other": [(s, e) for s, _, e in answers if s not in (GOOD, 429)],
        "max_429_ms": max(refused) * 1e3 if refused else None,
    }


def first_requests(export_dir: str, spec: dict, warmup: bool, model: str = "infogan") -> dict[str, float]:
    """ms of each signature's first request (batch 1) right after start-up, with or without warm-up records."""
    with tempfile.TemporaryDirectory() as copy:
        if not warmup:  # the same export, its warm-up records removed
            export_dir = shutil.copytree(export_dir, os.path.join(copy, "export"))
            for version in os.listdir(export_dir):
                shutil.rmtree(os.path.join(export_dir, version, "assets.extra"), ignore_errors=True)
        process, address = start_server(export_dir, 8)
        try:
            times = {}
            images = np.random.default_rng(0).uniform(0, 1, (1, *spec["image_shape"])).round(3).tolist()
            bodies = {
                "serving_default": one_image_body(spec, 0),
                "generate_from_seed": json.dumps(
                    {"signature_name": "generate_from_seed", "inputs": {"seed": 1, "num": 1}}
                ).encode(),
                "encode": json.dumps({"signature_name": "encode", "inputs": {"images": images}}).encode(),
            }
            for name, body in bodies.items():
                connection = http.client.HTTPConnection(address, timeout=120)
                began = time.perf_counter()
                status, _ = _post(connection, f"/v1/models/{model}:predict", body)
                times[name] = (time.perf_counter() - began) * 1e3
                connection.close()
                if status != GOOD:
                    raise SystemExit(f"error: the first {name} request was answered {status}.")
            return times
        finally:
            process.terminate()
            process.wait(timeout=30)


def _cell(result: dict, kind: str) -> str:
    return f"{result[kind]['p50_ms']:.1f} / {result[kind]['p99_ms']:.1f}" if kind in result else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export_dir", required=True)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--malformed_every", type=int, default=4)
    parser.add_argument("--max_concurrent", type=int, default=8)
    parser.add_argument("--overload_clients", type=int, default=64)
    args = parser.parse_args()

    spec = _latent_spec(args.export_dir)
    for warmup in (False, True):
        times = first_requests(args.export_dir, spec, warmup)
        shown = ", ".join(f"{name} {ms:.1f} ms" for name, ms in times.items())
        print(f"first request after start-up, {'with' if warmup else 'without'} the warm-up records: {shown}")
    process, address = start_server(args.export_dir, args.max_concurrent)
    try:
        print(
            f"explorer pid {process.pid} at {address}, --max_concurrent={args.max_concurrent}, {args.seconds:g} s each"
        )
        print(
            "| clients | mix | answers/s | predictions served/s | good p50 / p99 ms | malformed p50 / p99 ms "
            "| 429 (over the cap) | unexpected | RSS MiB before / peak / after | threads peak |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for clients in (int(c) for c in args.clients.split(",")):
            for malformed_every in (0, args.malformed_every):
                before = server_memory(process.pid)
                with PeakSampler(process.pid) as sampler:
                    result = load(address, spec, clients, args.seconds, malformed_every)
                after = server_memory(process.pid)
                mix = f"1 in {malformed_every} malformed" if malformed_every else "all good"
                print(
                    f"| {clients} | {mix} | {result['requests_per_s']:.0f} | {result['served_per_s']:.0f} | "
                    f"{_cell(result, 'good')} | {_cell(result, 'malformed')} | {result['statuses'].get(429, 0)} | "
                    f"{len(result['unexpected'])} | {before[0]:.0f} / {sampler.peak[0]:.0f} / {after[0]:.0f} | "
                    f"{sampler.peak[1]} |",
                    flush=True,
                )
        before = server_memory(process.pid)
        result = overload(address, spec, args.overload_clients)
        after = server_memory(process.pid)
        print(
            f"\n{args.overload_clients} predicts at once, --max_concurrent={args.max_concurrent}: "
            f"{result['served']} served, {result['refused_429']} answered 429 (slowest 429: "
            f"{result['max_429_ms'] or 0:.1f} ms), other statuses {result['other']}; "
            f"RSS {before[0]:.0f} -> {after[0]:.0f} MiB, threads {before[1]} -> {after[1]}"
        )
        time.sleep(1.0)
        idle = server_memory(process.pid)
        print(f"idle after the load: RSS {idle[0]:.0f} MiB, {idle[1]} threads")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Choosing the tf.distribute strategy from `--strategy`, `--devices` and `--logical_cpus`."""

from __future__ import annotations

import json
import os

import tensorflow as tf

from infogan_tf.config import Config, ConfigError


def split_host_cpu(count: int) -> None:
    """Splits the host CPU into `count` logical devices, so MirroredStrategy can run on a CPU.

    Must run before TensorFlow initialises its devices (before the first op).
    """
    cpus = tf.config.list_physical_devices("CPU")
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current is not None and len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpus[0], wanted)
    except RuntimeError:
        raise ConfigError(
            f"--logical_cpus={count} must be set before TensorFlow starts; it already runs with "
            f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s) in this process."
        ) from None


def _multi_worker_count() -> int:
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except json.JSONDecodeError:
        raise ConfigError("The TF_CONFIG environment variable is not valid JSON; fix or unset it.") from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def make_strategy(config: Config) -> tf.distribute.Strategy:
    """Returns the strategy the config asks for.

    `auto`: MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored over the GPUs when
    there are several (or over `--logical_cpus` CPU devices), else the default strategy.
    """
    if config.logical_cpus:
        split_host_cpu(config.logical_cpus)
    kind = config.strategy
    gpus = tf.config.list_logical_devices("GPU")
    if kind == "auto":
        if _multi_worker_count() > 1:
            kind = "multi_worker"
        elif config.devices or len(gpus) > 1 or config.logical_cpus > 1:
            kind = "mirrored"
        else:
            kind = "default"
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "multi_worker":
        # Needs per-worker data shards and chief-only writing, which are not built yet.
        raise ConfigError(
            "--strategy=multi_worker (or TF_CONFIG naming several workers) is not supported yet; "
            "use --strategy=mirrored on one host."
        )
    devices = list(config.devices)
    if not devices:
        if len(gpus) > 1:
            devices = [d.name for d in gpus]
        else:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    try:
        return tf.distribute.MirroredStrategy(devices=devices)
    except (ValueError, RuntimeError) as e:
        raise ConfigError(f"--devices={','.join(devices)} cannot be mirrored over ({e}).") from None

"""Choosing the tf.distribute strategy from `--strategy`, `--devices` and `--logical_cpus`, and running
the training step under it (`StepLoop`)."""

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


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True for the one task that writes the workdir: the chief, else worker 0, else a local strategy."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    jobs = resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in jobs


def worker_count(strategy: tf.distribute.Strategy) -> int:
    """How many processes take part (1 unless multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1
    jobs = resolver.cluster_spec().as_dict()
    return sum(len(jobs.get(job, [])) for job in ("chief", "worker"))


def _multi_worker_strategy(config: Config) -> tf.distribute.Strategy:
    if config.devices or config.logical_cpus > 1:
        raise ConfigError(
            "--strategy=multi_worker takes its devices from TF_CONFIG and each host's GPUs (or CPU); "
            "drop --devices / --logical_cpus."
        )
    if _multi_worker_count() < 1:
        raise ConfigError(
            "--strategy=multi_worker needs the TF_CONFIG environment variable to name the cluster and this "
            'task, e.g. {"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", '
            '"index": 0}}.'
        )
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    except RuntimeError as error:  # "Collective ops must be configured at program startup"
        raise ConfigError(
            f"--strategy=multi_worker must start before any other TensorFlow work in its process ({error}); "
            "run one train.py per worker."
        ) from None


def make_strategy(config: Config) -> tf.distribute.Strategy:
    """Returns the strategy the config asks for.

    `auto`: MultiWorkerMirrored when TF_CONFIG names several workers, Mirrored over the GPUs when
    there are several (or over `--logical_cpus` CPU devices), else the default strategy.
    """
    if config.logical_cpus:
        split_host_cpu(config.logical_cpus)
    kind = config.strategy
    if kind == "auto" and _multi_worker_count() > 1:
        kind = "multi_worker"
    if kind == "multi_worker":
        # Before anything initialises TensorFlow's runtime: collectives are configured at start-up.
        return _multi_worker_strategy(config)
    gpus = tf.config.list_logical_devices("GPU")
    if kind == "auto":
        if config.devices or len(gpus) > 1 or config.logical_cpus > 1:
            kind = "mirrored"
        else:
            kind = "default"
    if kind == "default":
        return tf.distribute.get_strategy()
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


class StepLoop:
    """Runs a replica step many times in one `tf.function` call under a strategy: every piece of the
    distribution plumbing of training (the step loop, the batch split, the stop vote) is here.

    The host keeps one plain `tf.data` iterator (checkpointable, unlike the iterator of
    `experimental_distribute_dataset`), so a resumed run continues the data stream exactly; each replica
    takes its slice of the host's global batch.

    Args:
        strategy: the run's strategy.
        replica_step: `(images, options) -> {name: value}`, run on each replica with its slice of the
            batch; values already divided by the global batch, so a SUM over replicas is the mean.
        metric_names: `options -> names` of the values `replica_step` returns.
        batch_size: the global batch size.
    """

    def __init__(self, strategy: tf.distribute.Strategy, replica_step, metric_names, batch_size: int):
        self.strategy = strategy
        self.replica_step = replica_step
        self.metric_names = metric_names
        self.batch_size = batch_size
        self.workers = worker_count(strategy)
        # Set (from a signal-watching thread) to end the loop after the step in flight.
        self.stop_requested = tf.Variable(False, trainable=False, name="stop_requested")

    def __call__(self, iterator, num_steps: int, options=()) -> tuple[dict[str, tf.Tensor], int]:
        """Runs up to `num_steps` steps with `options` (a hashable value each trace is specialised on; it is
        handed to `replica_step`).

        Stops early after a step whose metrics are not finite, or when `stop_requested` is set.
        Returns the last step's metrics (each the mean over the global batch) and the steps run.
        """
        metrics, done = self._loop(iterator, tf.constant(num_steps, tf.int32), options)
        return metrics, int(done)

    @tf.function
    def _loop(self, iterator, num_steps: tf.Tensor, options):
        names = self.metric_names(options)
        metrics = {name: tf.constant(0.0) for name in names}
        done = tf.constant(0)
        for _ in tf.range(num_steps):
            if self._stop_now():
                break
            per_replica = self.strategy.run(self.replica_step, args=(self._split_batch(next(iterator)), options))
            metrics = {
                name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica[name], axis=None) for name in names
            }
            done += 1
            if not tf.reduce_all(tf.math.is_finite(tf.stack(list(metrics.values())))):
                break  # this step's loss is not finite: its update must go no further
        return metrics, done

    def _split_batch(self, images):
        """Hands each replica its slice of the host's global batch (a tensor, or a nest of them)."""
        replicas = self.strategy.num_replicas_in_sync
        if replicas == 1:
            return images
        per_replica = self.batch_size // replicas

        def slice_for(context):
            start = context.replica_id_in_sync_group * per_replica
            return tf.nest.map_structure(lambda part: part[start : start + per_replica], images)

        return self.strategy.experimental_distribute_values_from_function(slice_for)

    def _stop_now(self) -> tf.Tensor:
        """Whether to stop before the next step. Across workers it must be one decision (a worker
        leaving the loop alone would block the others in their next all-reduce), so there it is
        any worker's flag, gathered by an all-reduce."""
        if self.workers == 1:
            return self.stop_requested.read_value()
        votes = self.strategy.run(lambda: tf.cast(self.stop_requested.read_value(), tf.float32))
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None) > 0

"""The training loop: InfoGAN's alternating D/Q and G updates in a tf.function under tf.distribute.

The objective (arXiv:1606.03657, Eq. 6): min_{G,Q} max_D V(D, G) - lambda L_I(G, Q). D and Q share
the discriminator's body, so one optimiser updates body, D head and Q head on
`D loss - lambda L_I`, and G's optimiser updates G on `G loss - lambda L_I`.

With `cr_weight` > 0, from `cr_start_step` on, InfoGAN-CR's contrastive regulariser (Lin et al.
2020) joins: a classifier learns which code a pair of generated images shares, and G adds
`cr_weight` times the same cross-entropy to its loss, so G helps it. The step follows their code's
order: classifier, then D/Q, then `g_steps` G updates on the same latents.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from infogan_tf import config as config_lib
from infogan_tf import distribution, evaluate, figures, input_pipeline, losses, performance, preemption, visualize
from infogan_tf.latent import LatentSpec
from infogan_tf.models import build_cr_classifier, build_models

TRAVERSAL_ROWS = 8  # fixed noise samples per traversal grid (rows).


class TrainingDiverged(config_lib.ReportedError, RuntimeError):
    """A loss or weight became NaN or infinite; nothing was saved after the last finite step."""


class InfoGAN:
    """G, D/Q, their optimisers and the latent RNG, created in `strategy.scope()`, plus the step."""

    def __init__(self, config: config_lib.Config, strategy: tf.distribute.Strategy):
        self.config = config
        self.strategy = strategy
        self.spec = LatentSpec.from_config(config)
        sync_bn = strategy.num_replicas_in_sync > 1
        with strategy.scope():
            self.generator, self.discriminator = build_models(config, sync_bn=sync_bn)
            self.g_optimizer = self._optimizer(config.lr_g)
            self.d_optimizer = self._optimizer(config.lr_d)
            # Optimiser slots must exist in the scope (and before a checkpoint restore).
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            # The CR classifier and its optimiser exist (and are checkpointed) in every CR run, and
            # start learning at cr_start_step: InfoGAN-CR's code re-initialises both there, so what
            # they would learn before is thrown away.
            self.cr_classifier = build_cr_classifier(config) if config.cr_weight > 0 else None
            if self.cr_classifier is not None:
                self.cr_optimizer = self._optimizer(config.lr_cr)
                self.cr_optimizer.build(self.cr_classifier.trainable_variables)
            # Created in the scope, each replica draws its own stream; the state is checkpointed.
            self.rng = tf.random.Generator.from_seed(config.seed)
        self._unweighted_codes = bool(
            (config.info_weight_cat == 0 and self.spec.categorical)
            or (config.info_weight_cont == 0 and self.spec.continuous)
        )
        self.metric_names = ["d_loss", "g_loss"] + [f"info_lb/{c}" for c in self.spec.code_names]
        self.cr_metric_names = ["cr_loss", "cr_accuracy"]
        # Set (from a signal-watching thread) to end the step loop after the step in flight.
        self.stop_requested = tf.Variable(False, trainable=False, name="stop_requested")
        self.workers = distribution.worker_count(strategy)
        # XLA compiles the whole replica step; with several replicas its all-reduces (synchronised
        # BN, gradient aggregation) are merge calls that cannot sit inside a nested function.
        self._core_step = tf.function(self.replica_step, jit_compile=True) if config.jit_compile else self.replica_step

    def _optimizer(self, learning_rate: float) -> keras.optimizers.Optimizer:
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=self.config.beta1)
        if self.config.mixed_precision == "fp16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def _gradients(self, tape, optimizer, loss, variables):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            loss = optimizer.scale_loss(loss)
        return tape.gradient(loss, variables)

    @tf.autograph.experimental.do_not_convert  # as `_sample_and_step`, wherever it is traced
    def replica_step(self, images: tf.Tensor, latent: dict[str, tf.Tensor], pairs=None) -> dict[str, tf.Tensor]:
        """One InfoGAN update on this replica's share of the global batch; with `pairs` (the two
        latent batches of `LatentSpec.sample_pairs` and the shared code's index), InfoGAN-CR's.

        Returns metrics already divided by the global batch, so a SUM over replicas is the mean.
        """
        config, global_batch = self.config, self.config.batch_size
        generator, discriminator = self.generator, self.discriminator
        every_batch = config.bn_statistics == "all"

        def average(per_example):
            return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)

        metrics = {}
        g_vars = generator.trainable_variables
        for g_update in range(config.g_steps):
            with tf.GradientTape() as g_tape:
                fake = generator(latent, training=True)
                if pairs is not None:
                    first, second, shared = pairs
                    pair_images = tf.concat([generator(first, training=True), generator(second, training=True)], -1)
                if g_update == 0:
                    with g_tape.stop_recording():
                        if pairs is not None:
                            metrics.update(self._cr_classifier_step(tf.stop_gradient(pair_images), shared, average))
                        metrics.update(self._d_step(images, fake, latent, average, every_batch))
                # G step through the updated D/Q (and classifier): G wants D fooled, c recoverable from
                # G(z, c) and, with CR, the shared code of each pair recognisable; only G's weights move.
                fake_out = discriminator(fake, training=True, update_statistics=every_batch)
                g_bounds = losses.info_lower_bounds(fake_out, latent, self.spec.categorical)
                g_info = losses.weighted_info_lower_bound(g_bounds, config.info_weight_cat, config.info_weight_cont)
                g_gan = losses.generator_loss(fake_out["logit"])
                g_loss = average(g_gan - g_info)
                if pairs is not None:
                    logits = self.cr_classifier(pair_images, training=True)
                    g_loss += config.cr_weight * average(losses.contrastive_loss(logits, shared))
            self.g_optimizer.apply(self._gradients(g_tape, self.g_optimizer, g_loss, g_vars), g_vars)
            if g_update == 0:
                metrics["g_loss"] = average(g_gan)
        return metrics

    def _d_step(self, images, fake, latent, average, every_batch) -> dict[str, tf.Tensor]:
        """D maximises V, and Q (with the shared body) maximises L_I on fakes made by the current G;
        G's weights are not touched, so its output is a constant here."""
        config, discriminator = self.config, self.discriminator
        with tf.GradientTape() as d_tape:
            # One pass over real and fake batches, each batch-normalised on its own; BN's moving
            # statistics, which Q reads real images with at inference, follow the real ones.
            real_out, fake_out = discriminator.on_batches(
                [images, tf.stop_gradient(fake)], training=True, update_statistics=[True, every_batch]
            )
            bounds = losses.info_lower_bounds(fake_out, latent, self.spec.categorical)
            info = losses.weighted_info_lower_bound(bounds, config.info_weight_cat, config.info_weight_cont)
            if self._unweighted_codes:
                # A code with lambda = 0 (the regular-GAN baseline of Fig. 1) still trains Q,
                # so L_I can be measured, but on features the body cannot learn from.
                blocked = discriminator.recognize(
                    tf.stop_gradient(fake_out["features"]), training=True, update_statistics=every_batch
                )
                info += losses.weighted_info_lower_bound(
                    losses.info_lower_bounds(blocked, latent, self.spec.categorical),
                    float(config.info_weight_cat == 0),
                    float(config.info_weight_cont == 0),
                )
            d_gan = losses.discriminator_loss(real_out["logit"], fake_out["logit"])
            d_loss = average(d_gan - info)
        d_vars = discriminator.trainable_variables
        self.d_optimizer.apply(self._gradients(d_tape, self.d_optimizer, d_loss, d_vars), d_vars)
        metrics = {"d_loss": average(d_gan)}
        metrics.update({f"info_lb/{name}": average(value) for name, value in bounds.items()})
        return metrics

    def _cr_classifier_step(self, pair_images, shared, average) -> dict[str, tf.Tensor]:
        """The CR classifier learns which code each pair shares (InfoGAN-CR's crd_op, first in their step)."""
        classifier = self.cr_classifier
        with tf.GradientTape() as tape:
            logits = classifier(pair_images, training=True)
            loss = average(losses.contrastive_loss(logits, shared))
        variables = classifier.trainable_variables
        self.cr_optimizer.apply(self._gradients(tape, self.cr_optimizer, loss, variables), variables)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), shared), tf.float32)
        return {"cr_loss": loss, "cr_accuracy": average(correct)}

    # The replica's step has no Python control flow on tensors, so AutoGraph is not needed to trace
    # it, and converting it (and every layer it calls) took a third of the step's tracing time.
    @tf.autograph.experimental.do_not_convert
    def _sample_and_step(self, images, cr: bool):
        batch = tf.shape(images)[0]
        latent = self.spec.sample(self.rng, batch)
        pairs = self.spec.sample_pairs(self.rng, batch, self.config.cr_gap) if cr else None
        return self._core_step(images, latent, pairs)

    def _split_batch(self, images: tf.Tensor):
        """Hands each replica its slice of the host's global batch.

        The host keeps one plain `tf.data` iterator (checkpointable, unlike the iterator of
        `experimental_distribute_dataset`), so a resumed run continues the data stream exactly.
        """
        replicas = self.strategy.num_replicas_in_sync
        if replicas == 1:
            return images
        per_replica = self.config.batch_size // replicas

        def slice_for(context):
            start = context.replica_id_in_sync_group * per_replica
            return images[start : start + per_replica]

        return self.strategy.experimental_distribute_values_from_function(slice_for)

    @tf.function
    def _step_loop(self, iterator, num_steps: tf.Tensor, cr: bool):
        names = self.metric_names + (self.cr_metric_names if cr else [])
        metrics = {name: tf.constant(0.0) for name in names}
        done = tf.constant(0)
        for _ in tf.range(num_steps):
            if self._stop_now():
                break
            per_replica = self.strategy.run(self._sample_and_step, args=(self._split_batch(next(iterator)), cr))
            metrics = {
                name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica[name], axis=None) for name in names
            }
            done += 1
            if not tf.reduce_all(tf.math.is_finite(tf.stack(list(metrics.values())))):
                break  # this step's loss is not finite: its update must go no further
        return metrics, done

    def _stop_now(self) -> tf.Tensor:
        """Whether to stop before the next step. Across workers it must be one decision (a worker
        leaving the loop alone would block the others in their next all-reduce), so there it is
        any worker's flag, gathered by an all-reduce."""
        if self.workers == 1:
            return self.stop_requested.read_value()
        votes = self.strategy.run(lambda: tf.cast(self.stop_requested.read_value(), tf.float32))
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None) > 0

    def fingerprint(self) -> str:
        """A short hash of every G and D/Q variable: equal across workers when they are in sync."""
        digest = hashlib.sha256()
        for variable in self.variables:
            digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
        return digest.hexdigest()[:16]

    @property
    def variables(self) -> list:
        """Every network variable: G's, D/Q's and the CR classifier's."""
        networks = [self.generator, self.discriminator] + ([self.cr_classifier] if self.cr_classifier else [])
        return [v for network in networks for v in network.variables]

    def cr_active(self, step: int) -> bool:
        """Whether the step after `step` steps runs the contrastive regulariser."""
        return self.cr_classifier is not None and step >= self.config.cr_start_step

    def train_steps(self, iterator, num_steps, cr: bool = False) -> tuple[dict[str, tf.Tensor], int]:
        """Runs up to `num_steps` steps in one `tf.function` call (a graph loop, no Python per step),
        with InfoGAN-CR's regulariser if `cr`.

        Stops early after a step whose metrics are not finite, or when `stop_requested` is set.
        Returns the last step's metrics (each the mean over the global batch) and the steps run.
        """
        metrics, done = self._step_loop(iterator, tf.constant(num_steps, tf.int32), bool(cr))
        return metrics, int(done)

    @tf.function
    def _weights_finite(self) -> tf.Tensor:
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in self.variables])

    def first_non_finite_weight(self) -> str | None:
        """The path of the first network variable holding a NaN or infinity, or None."""
        if bool(self._weights_finite()):
            return None
        for variable in self.variables:
            if not tf.reduce_all(tf.math.is_finite(variable)):
                return variable.path
        return None


class BestCheckpoint:
    """`--keep_best`: a copy of the checkpoint of the evaluation where `metric` was highest, in
    `checkpoints/best/` with that evaluation in `best.json`, out of the rotation of the latest three.
    The record survives a resume: a resumed run keeps the best of all its evaluations."""

    def __init__(self, checkpoint_dir: str, metric: str):
        self.directory = os.path.join(checkpoint_dir, "best")
        self.metric = metric
        self.value, self.step = -math.inf, None
        record = os.path.join(self.directory, "best.json")
        if os.path.isfile(record):
            with open(record) as f:
                stored = json.load(f)
            if stored.get("keep_best") == metric:  # another metric's record is replaced by the next evaluation
                self.value, self.step = stored[metric], stored["step"]

    def offer(self, results: dict, saved: str) -> None:
        """Keeps `saved` (the checkpoint written at `results`' step) if `results[metric]` is a new best."""
        value = results[self.metric]
        if not value > self.value:  # NaN is never the best
            return
        os.makedirs(self.directory, exist_ok=True)
        name = os.path.basename(saved)
        kept = os.path.join(self.directory, name + ".")
        previous = [p for p in glob.glob(os.path.join(self.directory, "ckpt-*")) if not p.startswith(kept)]
        for path in glob.glob(saved + ".*"):
            shutil.copy2(path, self.directory)
        tf.compat.v1.train.update_checkpoint_state(self.directory, name, all_model_checkpoint_paths=[name])
        write_json(os.path.join(self.directory, "best.json"), {"keep_best": self.metric, **results})
        for path in previous:
            os.remove(path)
        self.value, self.step = value, results["step"]
        logging.info("Best %s so far (%.4f) at step %d: kept as %s.", self.metric, value, self.step, self.path)

    @property
    def path(self) -> str:
        return os.path.join(self.directory, f"ckpt-{self.step}")


def _format_duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
    )


def _truncate_metrics(path: str, step: int) -> None:
    """Drops metric lines logged after the checkpoint we resume from, so the file has no duplicates."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        lines = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
    with open(path, "w") as f:
        f.writelines(lines)


def _check_finite(model: InfoGAN, values: dict[str, float], at: int, manager: tf.train.CheckpointManager) -> None:
    """Raises TrainingDiverged, naming the step and the value, if a loss or a weight is not finite."""
    kept = f"the last checkpoint ({manager.latest_checkpoint or 'none yet'}) is kept"
    advice = "lower --lr_g / --lr_d or check the data, then run again to resume from it"
    for name, value in values.items():
        if not math.isfinite(value):
            raise TrainingDiverged(f"{name} became {value} at step {at}; training stopped, {kept}; {advice}.")
    bad = model.first_non_finite_weight()
    if bad:
        raise TrainingDiverged(f"weight {bad} became non-finite by step {at}; training stopped, {kept}; {advice}.")


def _check_keep_best(config: config_lib.Config, labelled, with_factors) -> None:
    """ConfigError unless the evaluation will report `--keep_best`'s value for this data."""
    available = {
        "info_lb": True,
        "categorical_accuracy": labelled is not None,
        "mig": with_factors is not None,
        "factor_vae": with_factors is not None,
    }
    if config.keep_best and not available[config.keep_best]:
        reason = (
            "labels and a categorical code" if config.keep_best == "categorical_accuracy" else "ground-truth factors"
        )
        raise config_lib.ConfigError(
            f"--keep_best={config.keep_best} needs {reason}, which --dataset={config.dataset} with these codes "
            f"does not give; choose --keep_best from {', '.join(k for k, ok in available.items() if ok)}."
        )


def _restore(checkpoint: tf.train.Checkpoint, directory: str) -> str | None:
    """Restores the newest readable checkpoint; an unreadable one (truncated, garbled) is skipped
    with a warning. Returns its path, None for a fresh run; ConfigError if none can be read."""
    found = glob.glob(os.path.join(directory, "ckpt-*.index"))
    numbered = sorted(found, key=lambda p: int(re.search(r"ckpt-(\d+)\.index$", p).group(1)))
    candidates = [p[: -len(".index")] for p in numbered]
    for path in reversed(candidates):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
        except (tf.errors.OpError, ValueError, AssertionError, IndexError, OSError) as error:
            reason = str(error).strip().splitlines()[0][:200]
            logging.warning("Checkpoint %s cannot be read (%s); trying the one before it.", path, reason)
            continue
        if path != candidates[-1]:
            logging.warning("Resuming from %s, the newest checkpoint that could be read.", path)
        return path
    if candidates:
        raise config_lib.ConfigError(
            f"None of the {len(candidates)} checkpoints in {directory} can be read; move that folder away "
            "to start the run over, or restore it from a backup."
        )
    return None


def write_json(path: str, values: dict) -> None:
    """Writes `values` as JSON atomically (readers never see half a file)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(values, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def summary_line(results: dict, entropies: dict[str, float], workdir: str) -> str:
    """The line a finished run ends with: L_I per code against H(c), what the codes were measured to
    capture (accuracy, MIG / FactorVAE, the best continuous code's slant and width correlation), and
    where the figures and the export command are."""
    codes = " ".join(f"{c} {results[f'info_lb/{c}']:.3f}/{h:.3f}" for c, h in entropies.items())
    parts = [f"Done at step {results['step']}: L_I/H(c) {codes}"]
    if "categorical_accuracy" in results:
        parts.append(f"categorical accuracy {results['categorical_accuracy']:.3f}")
    if "mig" in results:
        parts.append(f"MIG {results['mig']:.3f} FactorVAE {results['factor_vae']:.3f}")
    for measure in ("slant", "width"):
        rhos = {k.split("/")[1]: v for k, v in results.items() if k.startswith(f"spearman_{measure}/")}
        if rhos:
            best = max(rhos, key=lambda c: abs(rhos[c]))
            parts.append(f"{measure} follows {best} (Spearman {rhos[best]:+.2f})")
    parts.append(f"figures in {os.path.join(workdir, 'figures')}/; export with: python export.py --workdir={workdir}")
    return " | ".join(parts)


def train_and_evaluate(config: config_lib.Config, workdir: str) -> dict[str, float]:
    """Trains (resuming from `workdir/checkpoints` when present) and writes every workdir artifact.

    Returns the final metrics and evaluation; with `stopped_by` (e.g. "SIGTERM") when a signal
    stopped the run early, after saving a checkpoint.
    """
    config_lib.validate(config)
    figures.check_baseline(config.baseline_workdir)
    config = input_pipeline.adapt_config(config)  # npz/folder: image shape and architecture from the data
    if config.deterministic:
        keras.utils.set_random_seed(config.seed)
        tf.config.experimental.enable_op_determinism()
    strategy = distribution.make_strategy(config)
    config = performance.resolve(config, strategy)  # XLA and mixed precision: the fast defaults
    performance.set_precision_policy(config.mixed_precision)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise config_lib.ConfigError(
            f"--batch_size={config.batch_size} must be divisible by the {replicas} replicas of the strategy."
        )
    if config.jit_compile and replicas > 1:
        raise config_lib.ConfigError(
            f"--jit_compile=true runs on one device only; it cannot compile the {replicas}-replica step "
            "(drop --jit_compile or use --strategy=default)."
        )
    # Only the chief writes the workdir; other workers save their (identical) checkpoints to a
    # temporary directory, as every worker must take part in a save, and read the chief's on resume.
    chief = distribution.is_chief(strategy)
    if chief:
        config_lib.check_workdir(config, workdir)
    model = InfoGAN(config, strategy)
    dataset = input_pipeline.train_dataset(config)  # data errors, too, come before anything is written
    labelled, with_factors, factor_names = None, None, None
    if chief:
        # Labels are only scored against a categorical code.
        labelled = input_pipeline.labelled_eval_set(config, config.eval_samples) if model.spec.categorical else None
        with_factors = input_pipeline.factor_eval_set(config, config.factor_eval_samples)
        factor_names = input_pipeline.factor_names(config)
        _check_keep_best(config, labelled, with_factors)
        config_lib.write_or_check(config, workdir)
        for sub in ("checkpoints", "samples", "tensorboard"):
            os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    checkpoint_dir = os.path.join(workdir, "checkpoints")
    save_dir = checkpoint_dir if chief else tempfile.mkdtemp(prefix="infogan-worker-checkpoints-")

    iterator = iter(dataset)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    checkpoint = tf.train.Checkpoint(
        step=step,
        generator=model.generator,
        discriminator=model.discriminator,
        g_optimizer=model.g_optimizer,
        d_optimizer=model.d_optimizer,
        rng=model.rng,
        data_iterator=iterator,
        **({"cr_classifier": model.cr_classifier, "cr_optimizer": model.cr_optimizer} if model.cr_classifier else {}),
    )
    # A garbled `checkpoint` state file is ignored by TF (with a warning); _restore finds checkpoints by name.
    manager = tf.train.CheckpointManager(checkpoint, save_dir, max_to_keep=3)
    restored = _restore(checkpoint, checkpoint_dir)
    if restored:
        logging.info("Resumed from %s at step %d.", restored, int(step))
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    if chief:
        _truncate_metrics(metrics_path, int(step))

    spec = model.spec
    entropies = spec.entropies()
    # Fixed traversal rows and eval latents come from their own seeded streams, never the training RNG.
    traversal_base = spec.sample(tf.random.Generator.from_seed(config.seed + 1), TRAVERSAL_ROWS)
    if chief:
        writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard"))
    else:
        writer = tf.summary.create_noop_writer()
    best = BestCheckpoint(checkpoint_dir, config.keep_best) if chief and config.keep_best else None

    def every(cadence: int, at: int) -> bool:
        return at % cadence == 0 or at == config.steps

    def chief_every(cadence: int, at: int) -> bool:
        return chief and every(cadence, at)

    def write_samples(at: int) -> None:
        grids = visualize.traversal_grids(model.generator, spec, traversal_base)
        with writer.as_default(step=at):
            for code, grid in grids.items():
                visualize.write_png(os.path.join(workdir, "samples", f"{code}_step{at:07d}.png"), grid)
                tf.summary.image(f"traversal/{code}", grid[None])
        # After the log row of this step, so the L_I curve reaches it.
        figures.write_run_figures(workdir, config.baseline_workdir)

    def write_eval(at: int) -> dict[str, float]:
        results = evaluate.info_bound(
            model.generator,
            model.discriminator,
            spec,
            tf.random.Generator.from_seed(config.seed + 2),
            config.eval_samples,
        )
        if spec.continuous and config.image_shape[-1] == 1:
            rng = tf.random.Generator.from_seed(config.seed + 5)
            results.update(evaluate.traversal_correlations(model.generator, spec, rng))
        if labelled is not None:
            results.update(evaluate.categorical_accuracy(model.discriminator, spec, *labelled))
        if with_factors is not None:
            results.update(
                evaluate.disentanglement(model.discriminator, spec, *with_factors, config.seed, factor_names)
            )
        results["step"] = at
        write_json(os.path.join(workdir, "eval.json"), results)
        with writer.as_default(step=at):
            for name, value in results.items():
                if name != "step":
                    tf.summary.scalar(f"eval/{name}", value)
        return results

    metrics, results, stopped_by = {}, {}, None
    start, last_time, last_step = time.time(), time.time(), int(step)
    with preemption.StopOnSignals(model.stop_requested) as stop:
        while int(step) < config.steps:
            at = int(step)
            # Run until the next step at which something is logged, saved or sampled.
            chunk = min(
                config.steps - at,
                *(
                    cadence - at % cadence
                    for cadence in (config.log_every, config.checkpoint_every, config.sample_every, config.eval_every)
                ),
            )
            if model.cr_classifier is not None and at < config.cr_start_step:
                chunk = min(chunk, config.cr_start_step - at)  # the regulariser joins at cr_start_step
            values, done = model.train_steps(iterator, chunk, cr=model.cr_active(at))
            step.assign_add(done)
            at = int(step)
            values = {name: float(value) for name, value in values.items()}
            # Checked before anything is saved, so a checkpoint never holds diverged weights.
            _check_finite(model, values, at, manager)
            if done < chunk:  # stopped by a signal: save where we are and return
                stopped_by = stop.received or "a stop request"
                metrics = {**values, "step": at}
                manager.save(checkpoint_number=at)
                logging.warning(
                    "%s at step %d: checkpoint saved to %s; run the same command to resume.",
                    stopped_by,
                    at,
                    manager.latest_checkpoint,
                )
                break
            if every(config.log_every, at):
                now = time.time()
                metrics = dict(values)
                images_per_sec = (at - last_step) * config.batch_size / max(now - last_time, 1e-9)
                metrics.update(
                    step=at,
                    info_lb=sum(metrics[f"info_lb/{c}"] for c in spec.code_names),
                    images_per_sec=images_per_sec,
                    elapsed_s=now - start,
                    **{f"entropy/{c}": h for c, h in entropies.items()},
                )
                if chief:
                    with open(metrics_path, "a") as f:
                        f.write(json.dumps(metrics, sort_keys=True) + "\n")
                with writer.as_default(step=at):
                    for name, value in metrics.items():
                        if name != "step":
                            tf.summary.scalar(name, value)
                eta = (config.steps - at) * config.batch_size / max(images_per_sec, 1e-9)
                codes = " ".join(f"{c} {metrics[f'info_lb/{c}']:.3f}/{entropies[c]:.3f}" for c in spec.code_names)
                cr = (
                    f" | CR loss {metrics['cr_loss']:.3f} acc {metrics['cr_accuracy']:.2f}"
                    if "cr_loss" in metrics
                    else ""
                )
                logging.info(
                    "step %d/%d | d_loss %.3f g_loss %.3f | L_I/H(c) %s%s | %.0f img/s | ETA %s",
                    at,
                    config.steps,
                    metrics["d_loss"],
                    metrics["g_loss"],
                    codes,
                    cr,
                    images_per_sec,
                    _format_duration(eta),
                )
                last_time, last_step = now, at
            # With --keep_best every evaluated step is saved too, so its checkpoint can be kept.
            if every(config.checkpoint_every, at) or (config.keep_best and every(config.eval_every, at)):
                manager.save(checkpoint_number=at)
            # The evaluation first: the traversal figure names each code after eval.json's factors.
            if chief_every(config.eval_every, at):
                results = write_eval(at)
                if best:
                    best.offer(results, manager.latest_checkpoint)
            if chief_every(config.sample_every, at):
                write_samples(at)
    writer.flush()
    if chief and not results and int(step) >= config.steps:
        results = write_eval(int(step))
    if not chief:
        shutil.rmtree(save_dir, ignore_errors=True)
    logging.info("Weights at step %d: fingerprint %s.", int(step), model.fingerprint())
    if chief and results and not stopped_by:
        logging.info("%s", summary_line(results, entropies, workdir))
    if best and best.step is not None:
        logging.info(
            "The best %s, %.4f at step %d, is kept: python export.py --workdir=%s --checkpoint=%s",
            best.metric,
            best.value,
            best.step,
            workdir,
            best.path,
        )
    outcome = {**metrics, **{f"eval/{k}": v for k, v in results.items()}}
    if stopped_by:
        outcome["stopped_by"] = stopped_by
    return outcome

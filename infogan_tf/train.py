"""The training run: set up, restore, the step loop, and everything a run writes into its workdir.

`train_and_evaluate` reads top to bottom; the game and its step are `infogan_tf.gan.InfoGAN`, the data
`infogan_tf.datasets`, and what the run writes (metrics, progress lines, checkpoints, traversals,
evaluations, the end-of-run summary) is `Run`'s.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import tempfile
import time

import keras
import tensorflow as tf
from absl import logging

from infogan_tf import config as config_lib
from infogan_tf import datasets, distribution, evaluate, figures, models, performance, preemption, visualize
from infogan_tf.gan import InfoGAN

TRAVERSAL_ROWS = 8  # fixed noise samples per traversal grid (rows).
# Latents (one fixed batch) and real images the sample diversity is measured on: std over 256 images is
# within ~5 % of the population's.
DIVERSITY_SAMPLES = 256
# No collapse warning before this step: G's batch norm reads its moving statistics in inference mode, and
# until they have followed training for a while (momentum 0.9: 99.5 % of their weight on the last 50
# steps) G draws nearly one image whatever it learned (digits, `python train.py --steps=200 --log_every=25`:
# diversity ratio 0.12 at step 25, 0.38 at 50, 0.49 at 100; BUILD_NOTES.md 2026-12-04).
DIVERSITY_WARMUP_STEPS = 50


class TrainingDiverged(config_lib.ReportedError, RuntimeError):
    """A loss or weight became NaN or infinite; nothing was saved after the last finite step."""


class Run:
    """What one run writes: `metrics.jsonl` and the progress line, checkpoints (with `--keep_best`'s),
    traversal samples and figures, `eval.json`, TensorBoard, and the end-of-run summary.

    Only the chief writes the workdir; other workers save their (identical) checkpoints to a temporary
    directory, as every worker must take part in a save, and read the chief's on resume.
    """

    def __init__(self, config: config_lib.Config, workdir: str, model: InfoGAN, source, chief: bool):
        self.config, self.workdir, self.model, self.source, self.chief = config, workdir, model, source, chief
        self.labelled = self.labelled_fit = self.with_factors = self.factor_names = None
        if chief:
            # Labels are only scored against a categorical code.
            if model.spec.categorical:
                self.labelled = source.labelled_eval_set(config, config.labelled_eval_samples)
                self.labelled_fit = source.labelled_fit_set(config, config.labelled_eval_samples)
            self.with_factors = source.factor_eval_set(config, config.factor_eval_samples)
            self.factor_names = source.factor_names(config)
            _check_keep_best(config, self.labelled, self.with_factors)
            config_lib.write_or_check(config, workdir)
            for sub in ("checkpoints", "samples", "tensorboard"):
                os.makedirs(os.path.join(workdir, sub), exist_ok=True)
        self.checkpoint_dir = os.path.join(workdir, "checkpoints")
        self.save_dir = self.checkpoint_dir if chief else tempfile.mkdtemp(prefix="infogan-worker-checkpoints-")
        self.metrics_path = os.path.join(workdir, "metrics.jsonl")
        self.results: dict[str, float] = {}

    @property
    def step(self) -> int:
        return int(self.step_variable)

    def restore(self, iterator) -> None:
        """Creates the checkpoint of the game, the step and the data iterator, and resumes from the newest
        readable one in the workdir (a fresh run when there is none)."""
        self.step_variable = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        checkpoint = tf.train.Checkpoint(
            step=self.step_variable, data_iterator=iterator, **self.model.checkpoint_objects()
        )
        # A garbled `checkpoint` state file is ignored by TF (with a warning); _restore finds checkpoints by name.
        self.manager = tf.train.CheckpointManager(checkpoint, self.save_dir, max_to_keep=3)
        restored = _restore(checkpoint, self.checkpoint_dir)
        if restored:
            logging.info("Resumed from %s at step %d.", restored, self.step)
        if self.chief:
            _truncate_metrics(self.metrics_path, self.step)
        config, spec = self.config, self.model.spec
        self.entropies = spec.entropies()
        # Fixed traversal rows and eval latents come from their own seeded streams, never the training RNG.
        self.traversal_base = spec.sample(tf.random.Generator.from_seed(config.seed + 1), TRAVERSAL_ROWS)
        self.diversity_latent = spec.sample(tf.random.Generator.from_seed(config.seed + 6), DIVERSITY_SAMPLES)
        self.real_spread = evaluate.pixel_spread(self.source.real_images(config, DIVERSITY_SAMPLES))
        tensorboard = os.path.join(self.workdir, "tensorboard")
        self.writer = tf.summary.create_file_writer(tensorboard) if self.chief else tf.summary.create_noop_writer()
        self.best = BestCheckpoint(self.checkpoint_dir, config.keep_best) if self.chief and config.keep_best else None
        self.start = self.last_time = time.time()
        self.last_step = self.step

    def steps_to_next_event(self) -> int:
        """Steps until something is logged, saved or sampled, the run ends, or a regulariser joins."""
        config, at = self.config, self.step
        cadences = (config.log_every, config.checkpoint_every, config.sample_every, config.eval_every)
        chunk = min(config.steps - at, *(cadence - at % cadence for cadence in cadences))
        for regulariser in self.model.regularisers:
            if at < regulariser.start_step:
                chunk = min(chunk, regulariser.start_step - at)
        return chunk

    def every(self, cadence: int) -> bool:
        return self.step % cadence == 0 or self.step == self.config.steps

    def log(self, values: dict[str, float]) -> dict[str, float]:
        """A `metrics.jsonl` row, TensorBoard scalars and the progress line of the current step."""
        config, at, spec, entropies = self.config, self.step, self.model.spec, self.entropies
        now = time.time()
        images_per_sec = (at - self.last_step) * config.batch_size / max(now - self.last_time, 1e-9)
        metrics = dict(values)
        metrics.update(evaluate.sample_diversity(self.model.generator, self.diversity_latent, self.real_spread))
        metrics.update(
            step=at,
            info_lb=sum(metrics[f"info_lb/{c}"] for c in spec.code_names),
            images_per_sec=images_per_sec,
            elapsed_s=now - self.start,
            **{f"entropy/{c}": h for c, h in entropies.items()},
        )
        if self.chief:
            with open(self.metrics_path, "a") as f:
                f.write(json.dumps(metrics, sort_keys=True) + "\n")
        with self.writer.as_default(step=at):
            for name, value in metrics.items():
                if name != "step":
                    tf.summary.scalar(name, value)
        eta = (config.steps - at) * config.batch_size / max(images_per_sec, 1e-9)
        codes = " ".join(f"{c} {metrics[f'info_lb/{c}']:.3f}/{entropies[c]:.3f}" for c in spec.code_names)
        cr = f" | CR loss {metrics['cr_loss']:.3f} acc {metrics['cr_accuracy']:.2f}" if "cr_loss" in metrics else ""
        logging.info(
            "step %d/%d | d_loss %.3f g_loss %.3f | L_I/H(c) %s%s | diversity %.2f | %.0f img/s | ETA %s%s",
            *(at, config.steps, metrics["d_loss"], metrics["g_loss"], codes, cr, metrics["diversity_ratio"]),
            *(images_per_sec, _format_duration(eta), self._collapse_warning(metrics["diversity_ratio"], at)),
        )
        self.last_time, self.last_step = now, at
        return metrics

    def _collapse_warning(self, ratio: float, at: int) -> str:
        """The progress line's sentence when G's samples vary less than `--diversity_floor` of the data."""
        if not _collapsed(at, ratio, self.config.diversity_floor):
            return ""
        return (
            f" | COLLAPSE at step {at}: G's samples vary {ratio:.2f}x as much as real images, under "
            f"--diversity_floor={self.config.diversity_floor:g}; G draws nearly one image for every latent"
        )

    def save(self) -> None:
        self.manager.save(checkpoint_number=self.step)

    def evaluate(self) -> dict[str, float]:
        """`eval.json` (and TensorBoard's eval/ scalars) for the current weights."""
        config, model, spec, at = self.config, self.model, self.model.spec, self.step
        rng = tf.random.Generator.from_seed(config.seed + 2)
        results = evaluate.info_bound(model.generator, model.discriminator, spec, rng, config.eval_samples)
        results.update(evaluate.sample_diversity(model.generator, self.diversity_latent, self.real_spread))
        results.update(evaluate.code_effects(model.generator, spec, tf.random.Generator.from_seed(config.seed + 7)))
        if spec.continuous and config.image_shape[-1] == 1:
            rng = tf.random.Generator.from_seed(config.seed + 5)
            results.update(evaluate.traversal_correlations(model.generator, spec, rng))
        if self.labelled is not None:
            results.update(
                evaluate.categorical_scores(model.discriminator, spec, *self.labelled, fit=self.labelled_fit)
            )
            results["categorical_heldout"] = float(self.labelled_fit is not None)  # else scored on training images
        if self.with_factors is not None:
            results.update(
                evaluate.disentanglement(model.discriminator, spec, *self.with_factors, config.seed, self.factor_names)
            )
        results["step"] = at
        write_json(os.path.join(self.workdir, "eval.json"), results)
        with self.writer.as_default(step=at):
            for name, value in results.items():
                if name != "step":
                    tf.summary.scalar(f"eval/{name}", value)
        self.results = results
        return results

    def write_samples(self) -> None:
        """The traversal grids of every code (samples/ and TensorBoard), then the run's figures."""
        at = self.step
        grids = visualize.traversal_grids(self.model.generator, self.model.spec, self.traversal_base)
        with self.writer.as_default(step=at):
            for code, grid in grids.items():
                visualize.write_png(os.path.join(self.workdir, "samples", f"{code}_step{at:07d}.png"), grid)
                tf.summary.image(f"traversal/{code}", grid[None])
        # After the log row of this step, so the L_I curve reaches it.
        figures.write_run_figures(self.workdir, self.config.baseline_workdir)

    def after_steps(self, values: dict[str, float]) -> dict[str, float] | None:
        """Whatever is due at the current step, in order: the log row, the checkpoint, the evaluation (first:
        the traversal figure names each code after eval.json's factors), the samples. Returns the logged
        metrics, None when nothing was logged."""
        config = self.config
        metrics = self.log(values) if self.every(config.log_every) else None
        # With --keep_best every evaluated step is saved too, so its checkpoint can be kept.
        if self.every(config.checkpoint_every) or (config.keep_best and self.every(config.eval_every)):
            self.save()
        if self.chief and self.every(config.eval_every):
            results = self.evaluate()
            if self.best:
                self.best.offer(results, self.manager.latest_checkpoint)
        if self.chief and self.every(config.sample_every):
            self.write_samples()
        return metrics

    def stopped(self, values: dict[str, float], by: str) -> dict[str, float]:
        """A signal stopped the loop: saves where we are and says how to resume."""
        self.save()
        logging.warning(
            "%s at step %d: checkpoint saved to %s; run the same command to resume.",
            *(by, self.step, self.manager.latest_checkpoint),
        )
        return {**values, "step": self.step}

    def finish(self, stopped_by: str | None) -> None:
        """The last evaluation (when none ran at the last step), and the end-of-run lines."""
        self.writer.flush()
        if self.chief and not self.results and self.step >= self.config.steps:
            self.evaluate()
        if not self.chief:
            shutil.rmtree(self.save_dir, ignore_errors=True)
        logging.info("Weights at step %d: fingerprint %s.", self.step, self.model.fingerprint())
        if self.chief and self.results and not stopped_by:
            collapsed_at = _first_collapse(self.metrics_path, self.config.diversity_floor)
            logging.info("%s", summary_line(self.results, self.entropies, self.workdir, collapsed_at))
        best = self.best
        if best and best.step is not None:
            logging.info(
                "The best %s, %.4f at step %d, is kept: python export.py --workdir=%s --checkpoint=%s",
                *(best.metric, best.value, best.step, self.workdir, best.path),
            )


# Categorical codes worth more nats than this draw a start-up warning when D/Q batch-normalise, by network.
# Measured with batch norm in D/Q, seed 0 each (BUILD_NOTES.md, 2026-12-04/05). The MNIST networks: the
# ten codes of the CelebA spec (23 nats) collapsed G by step 750 on all of MNIST; the SVHN spec 4 x Cat(10)
# (9.2 nats) and the chairs spec 3 x Cat(20) (9.0) trained there. The 32x32 `svhn` networks: the SVHN spec
# collapsed G on 32x32 colour images; the chairs networks: the chairs spec collapsed G on MNIST laid out as
# chairs. On the `svhn` network with emoji, 2 x Cat(10) (4.6 nats) and 3 x Cat(10) (6.9) collapsed G too, while
# the MNIST spec (2.3) recovered by step 750. Without batch norm (Glorot kernels) the presets' specs trained.
# The MNIST threshold lies under the smallest spec seen to collapse there, the other one under the smallest
# seen to collapse on the `svhn` network; specs under 9 nats on `chairs` and all on `dcgan64` were not measured.
MANY_CODES_NATS = {"mnist": 10.0}
MANY_CODES_NATS_ELSEWHERE = 4.0


def many_codes_warning(config: config_lib.Config) -> str | None:
    """One line naming the flags to set when the latent spec has many categorical codes and D/Q would
    let G hide them in a batch's statistics, or None."""
    nats = sum(math.log(k) for k in config.categorical)
    if nats <= MANY_CODES_NATS.get(config.architecture, MANY_CODES_NATS_ELSEWHERE):
        return None
    spec = f"--categorical={','.join(map(str, config.categorical))} ({nats:.1f} nats of categorical codes)"
    if models.d_batch_norm(config.architecture, config.d_batch_norm):
        return (
            f"{spec} with batch norm in D/Q: such specs collapsed G to one image on MNIST and colour images "
            "while Q read the codes from a batch's statistics alone; set --nod_batch_norm --weight_init=keras "
            "(docs/training.md)."
        )
    if config.weight_init == "dcgan" and models.d_batch_norm(config.architecture, None):
        return (
            f"{spec} without batch norm in D/Q and --weight_init=dcgan: Q's features start near zero and its "
            "L_I grows about ten times slower; set --weight_init=keras (docs/training.md)."
        )
    return None


def prepare(config: config_lib.Config):
    """Checks `config`, adapts it to its data, and sets up determinism, the strategy, XLA and precision.
    Returns the resolved config, the strategy and the data source."""
    config_lib.validate(config)
    figures.check_baseline(config.baseline_workdir)
    source = datasets.get(config.dataset)
    config = source.adapt_config(config)  # npz/folder: image shape and architecture from the data
    warning = many_codes_warning(config)
    if warning:
        logging.warning(warning)
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
    if config.elastic_weight > 0 and replicas > 1:
        raise config_lib.ConfigError(
            f"--elastic_weight runs on one replica only (its negatives would be one replica's share of the batch), "
            f"not the strategy's {replicas}; use --strategy=default or drop --elastic_weight."
        )
    if config.jit_compile and replicas > 1:
        raise config_lib.ConfigError(
            f"--jit_compile=true runs on one device only; it cannot compile the {replicas}-replica step "
            "(drop --jit_compile or use --strategy=default)."
        )
    return config, strategy, source


def train_and_evaluate(config: config_lib.Config, workdir: str) -> dict[str, float]:
    """Trains (resuming from `workdir/checkpoints` when present) and writes every workdir artifact.

    Returns the final metrics and evaluation; with `stopped_by` (e.g. "SIGTERM") when a signal
    stopped the run early, after saving a checkpoint.
    """
    config, strategy, source = prepare(config)
    chief = distribution.is_chief(strategy)
    if chief:
        config_lib.check_workdir(config, workdir)
    model = InfoGAN(config, strategy)
    dataset = source.train_dataset(config)  # data errors, too, come before anything is written
    for regulariser in model.regularisers:
        dataset = regulariser.prepare_dataset(dataset)
    run = Run(config, workdir, model, source, chief)
    iterator = iter(dataset)
    run.restore(iterator)

    metrics, stopped_by = {}, None
    with preemption.StopOnSignals(model.loop.stop_requested) as stop:
        while run.step < config.steps:
            chunk = run.steps_to_next_event()
            values, done = model.train_steps(iterator, chunk, model.active_regularisers(run.step))
            run.step_variable.assign_add(done)
            values = {name: float(value) for name, value in values.items()}
            # Checked before anything is saved, so a checkpoint never holds diverged weights.
            _check_finite(model, values, run.step, run.manager)
            if done < chunk:  # stopped by a signal
                stopped_by = stop.received or "a stop request"
                metrics = run.stopped(values, stopped_by)
                break
            metrics = run.after_steps(values) or metrics
    run.finish(stopped_by)
    outcome = {**metrics, **{f"eval/{k}": v for k, v in run.results.items()}}
    if stopped_by:
        outcome["stopped_by"] = stopped_by
    return outcome


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
        "diversity_ratio": True,
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


def _collapsed(step: int, ratio: float, floor: float) -> bool:
    """Whether G counts as collapsed: its diversity ratio under `floor`, past the batch-norm warm-up."""
    return step >= DIVERSITY_WARMUP_STEPS and ratio < floor


def _first_collapse(metrics_path: str, floor: float) -> tuple[int, float] | None:
    """(step, diversity_ratio) of the first `metrics.jsonl` row where G counts as collapsed, or None."""
    if not os.path.exists(metrics_path):
        return None
    with open(metrics_path) as f:
        for line in f:
            row = json.loads(line)
            if "diversity_ratio" in row and _collapsed(row["step"], row["diversity_ratio"], floor):
                return row["step"], row["diversity_ratio"]
    return None


def write_json(path: str, values: dict) -> None:
    """Writes `values` as JSON atomically (readers never see half a file)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(values, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def summary_line(
    results: dict, entropies: dict[str, float], workdir: str, collapsed_at: tuple[int, float] | None = None
) -> str:
    """The line a finished run ends with: L_I per code against H(c), how much G's samples vary against real
    images (and, when they fell under `--diversity_floor` at a logged step `collapsed_at` = (step, ratio),
    a sentence saying so), what the codes were measured to capture (accuracy, MIG / FactorVAE, the best
    continuous code's slant and width correlation), and where the figures and the export command are."""
    codes = " ".join(f"{c} {results[f'info_lb/{c}']:.3f}/{h:.3f}" for c, h in entropies.items())
    parts = [f"Done at step {results['step']}: L_I/H(c) {codes}"]
    if "diversity_ratio" in results:
        parts.append(f"sample diversity {results['diversity_ratio']:.2f}x the real images'")
    if collapsed_at:
        parts.append(
            f"G COLLAPSED at step {collapsed_at[0]}: its samples varied {collapsed_at[1]:.2f}x as much as real "
            "images there (metrics.jsonl's diversity_ratio); its codes' L_I can be high all the same"
        )
    if "categorical_accuracy" in results:
        where = "held-out" if results.get("categorical_heldout") else "training"
        parts.append(
            f"categorical accuracy {results['categorical_accuracy']:.3f} on {where} images (majority vote "
            f"{results['categorical_majority_accuracy']:.3f}, NMI {results['categorical_nmi']:.3f})"
        )
    if "mig" in results:
        parts.append(f"MIG {results['mig']:.3f} FactorVAE {results['factor_vae']:.3f}")
    for measure in ("slant", "width"):
        rhos = {k.split("/")[1]: v for k, v in results.items() if k.startswith(f"spearman_{measure}/")}
        if rhos:
            best = max(rhos, key=lambda c: abs(rhos[c]))
            parts.append(f"{measure} follows {best} (Spearman {rhos[best]:+.2f})")
    parts.append(f"figures in {os.path.join(workdir, 'figures')}/; export with: python export.py --workdir={workdir}")
    return " | ".join(parts)

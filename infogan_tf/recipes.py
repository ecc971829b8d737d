"""Reproduction recipes: the paper's claims as one command each (`python reproduce.py --recipe=...`).

- `fig1`: Fig. 1 and the unsupervised classification of Sec. 7.2. A regular GAN (lambda = 0, Q still
  trained) and InfoGAN with the MNIST setup, same seed and steps; L_I of Cat(10) against H(c) = ln 10 for
  both, and the categorical code's matched accuracy on the real labelled digits. `--dataset=digits`
  (scikit-learn's real handwritten digits, no download) or `--dataset=mnist` where TFDS can download.
- `seeds`: MIG and FactorVAE (and the rest of eval.json) of one preset over several seeds, mean and
  standard deviation, beside the published dSprites numbers of InfoGAN-CR (Lin et al. 2020, Table 1).
- `select`: ModelCentrality (Lin et al. 2020, `infogan_tf.selection`): the runs of several seeds (or given
  finished workdirs) score each other, the most central one is chosen without labels and exported.
- `mnist`: the paper's unsupervised MNIST classification without labels: several seeds screened to a few
  thousand steps, the run whose categories explain the least of the digits' slant (or, with
  `select_by="centrality"`, ModelCentrality) picks one, only the pick trains on to the full budget and is exported, and
  its held-out accuracy is reported (labels are read for the report only).

Each run is an ordinary workdir under `--workdir`, so a recipe that is interrupted resumes where it
stopped, and a finished one only re-evaluates and redraws. Results go to `<workdir>/results.json`
and the figures to `<workdir>/` (and `--docs_dir` when given).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
from absl import logging

import infogan_tf
from infogan_tf import config as config_lib
from infogan_tf import datasets, figures, selection
from infogan_tf import export as export_lib
from infogan_tf.latent import LatentSpec
from infogan_tf.train import train_and_evaluate, write_json

# Lin et al. 2020 (InfoGAN-CR, arXiv:1906.06034), Table 1, dSprites: mean scores as published.
PUBLISHED_DSPRITES = {
    "InfoGAN-CR": {"factor_vae": 0.88, "mig": 0.37},
    "InfoGAN (modified, in InfoGAN-CR)": {"factor_vae": 0.82, "mig": 0.22},
}
# Fig. 1's criterion in this recipe: L_I of Cat(10) within 2% of H(c) = ln 10 (the paper's Fig. 1 shows it
# reaching ln 10 quickly); results.json reports the first step that reaches it.
FIG1_FRACTION = 0.98


# How --recipe=mnist picks its run among the screened ones (`mnist`). The default, `slant_share`: a screened
# run whose categories explain little of the training digits' slant keeps every digit whole, one that
# explains much cuts 4 and 9 by slant. Over four seed pools (32 runs of the MNIST preset at 2,500 steps,
# the 0.12 threshold fixed after the first pool) the share told every whole run (0.085-0.094, held out
# 0.958-0.977) from every cut one (0.144-0.244, 0.738-0.912), where ModelCentrality picked a cut run in one
# pool of three and would have in the fourth (BUILD_NOTES, 2026-12-07). `centrality` is the generic pick,
# for images without a slant.
SELECT_BY = ("slant_share", "centrality")


class Interrupted(Exception):
    """A signal stopped one of the recipe's runs (its checkpoint is saved); the recipe stops too."""


def _train(config: config_lib.Config, workdir: str) -> dict:
    """Trains (or resumes, or only re-evaluates a finished run) and returns eval.json and the wall time."""
    start = time.time()
    keras.backend.clear_session()
    outcome = train_and_evaluate(config, workdir)
    if "stopped_by" in outcome:
        raise Interrupted(f"{outcome['stopped_by']} stopped {workdir}; run the same command to resume the recipe.")
    return _results(workdir, start)


# A side-by-side run's exit status when a signal stopped it (its checkpoint is saved).
_STOPPED = 3
# A side-by-side run's process: pinned to its CPU cores before TensorFlow is imported, so every thread
# TensorFlow starts (and the size of its thread pools) keeps to them; then one ordinary run.
_CHILD = (
    "import os, sys; os.sched_setaffinity(0, {cores}); "
    "from infogan_tf import recipes; sys.exit(recipes._child(sys.argv[1], sys.argv[2]))"
)


def _child(config_json: str, workdir: str) -> int:
    """A side-by-side run's process: `train_and_evaluate`, exit status 0 or `_STOPPED`."""
    logging.set_verbosity(logging.INFO)
    logging.info("Training %s on CPU cores %s.", workdir, sorted(os.sched_getaffinity(0)))
    outcome = train_and_evaluate(config_lib.Config.from_json(config_json), workdir)
    return _STOPPED if "stopped_by" in outcome else 0


def _train_all(runs: dict[str, config_lib.Config], parallel: int = 1) -> dict[str, dict]:
    """`_train` of each `{workdir: config}`. With `parallel` > 1, that many runs at once, each in a process
    of its own pinned to an equal share of this process's CPU cores, its log in `<workdir>.log`. Small
    models leave a second core half idle (two runs on one core each trained 1.38x the images/s of one run
    on both). A signal is passed on to the runs, which save a checkpoint; then `Interrupted`."""
    # Where a platform cannot pin a process to cores (no sched_getaffinity, e.g. macOS), only 1 is offered.
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    if not 1 <= parallel <= len(cores):
        raise config_lib.ConfigError(
            f"--parallel={parallel} must be between 1 and {len(cores)}, the CPU cores this process may use; "
            "each run trained at once gets its own share of them."
        )
    if parallel == 1:
        return {workdir: _train(config, workdir) for workdir, config in runs.items()}
    for workdir, config in runs.items():  # before any run starts
        config_lib.check_workdir(config, workdir)
    shares = [[int(core) for core in share] for share in np.array_split(cores, min(parallel, len(runs)))]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [os.path.dirname(os.path.dirname(infogan_tf.__file__)), os.environ.get("PYTHONPATH", "")]
        ),
    }
    waiting, running, results, failed, stopped_by = list(runs.items()), {}, {}, [], []

    def forward(number, frame):
        del frame
        stopped_by.append(signal.Signals(number).name)
        for child, *_ in running.values():
            child.send_signal(signal.SIGTERM)

    previous = {number: signal.signal(number, forward) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        while running or (waiting and not stopped_by):
            for share in [share for share in range(len(shares)) if share not in running]:
                if not waiting or stopped_by:
                    break
                workdir, config = waiting.pop(0)
                log_path = workdir.rstrip(os.sep) + ".log"
                os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
                with open(log_path, "a") as log:
                    command = [sys.executable, "-c", _CHILD.format(cores=shares[share]), config.to_json(), workdir]
                    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
                running[share] = (child, workdir, log_path, time.time())
                if stopped_by:  # a signal that came while it was being started
                    child.send_signal(signal.SIGTERM)
                logging.info("Training %s on CPU cores %s; its log: %s", workdir, shares[share], log_path)
            time.sleep(0.5)
            for share, (child, workdir, log_path, start) in list(running.items()):
                if child.poll() is None:
                    continue
                del running[share]
                if child.returncode == 0:
                    results[workdir] = _results(workdir, start)
                elif child.returncode == _STOPPED or stopped_by:  # stopped (before training began: killed)
                    stopped_by.append("a signal")
                else:
                    with open(log_path) as log:
                        last = ([line.strip() for line in log if line.strip()] or [""])[-1]
                    failed.append(f"{workdir} (exit status {child.returncode}; {log_path} ends: {last})")
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if failed:
        raise RuntimeError(f"{len(failed)} of the runs failed: " + "; ".join(failed))
    if stopped_by:
        raise Interrupted(f"{stopped_by[0]} stopped the runs in training; run the same command to resume the recipe.")
    return {workdir: results[workdir] for workdir in runs}


def _results(workdir: str, start: float) -> dict:
    """A finished run's eval.json, its training seconds and the wall seconds since `start`."""
    with open(os.path.join(workdir, "eval.json")) as f:
        results = json.load(f)
    rows = figures.read_metrics(workdir)
    results["train_seconds"] = rows[-1]["elapsed_s"] if rows else 0.0
    results["wall_seconds_this_call"] = time.time() - start
    return results


def _seed_dir(workdir: str, seed: int) -> str:
    """Where the `seeds` and `select` recipes train seed `seed`: the same run serves both."""
    return os.path.join(workdir, f"seed{seed}")


def _first_step_reaching(rows: list[dict], key: str, level: float) -> int | None:
    return next((row["step"] for row in rows if row.get(key, -math.inf) >= level), None)


def _copy(files: dict[str, str], docs_dir: str | None) -> dict[str, str]:
    """Copies `{name: path}` to `docs_dir/name` and returns where each now is (the originals without)."""
    if not docs_dir:
        return files
    os.makedirs(docs_dir, exist_ok=True)
    copied = {}
    for name, path in files.items():
        copied[name] = os.path.join(docs_dir, name)
        shutil.copyfile(path, copied[name])
    return copied


def fig1(base: config_lib.Config, workdir: str, docs_dir: str | None = None) -> dict:
    """The regular GAN, then InfoGAN (figures drawn with the GAN beside it); the Fig. 1 numbers."""
    if not base.categorical:
        raise config_lib.ConfigError("--recipe=fig1 needs a categorical code (e.g. --categorical=10).")
    gan_dir, info_dir = os.path.join(workdir, "gan"), os.path.join(workdir, "infogan")
    gan = dataclasses.replace(base, info_weight_cat=0.0, info_weight_cont=0.0)
    infogan = dataclasses.replace(base, baseline_workdir=gan_dir)
    if infogan.info_weight_cat == 0:
        raise config_lib.ConfigError("--recipe=fig1 compares InfoGAN with lambda = 0: --info_weight_cat must be > 0.")
    runs = {"gan": (gan, gan_dir), "infogan": (infogan, info_dir)}
    results: dict = {"dataset": base.dataset, "steps": base.steps, "seed": base.seed}
    entropy = math.log(base.categorical[0])
    for name, (config, run_dir) in runs.items():
        evaluation = _train(config, run_dir)
        rows = figures.read_metrics(run_dir)
        results[name] = {
            "workdir": run_dir,
            "info_lb/cat0_last_logged": rows[-1]["info_lb/cat0"],
            f"first_step_info_lb/cat0_ge_{FIG1_FRACTION}_H": _first_step_reaching(
                rows, "info_lb/cat0", FIG1_FRACTION * entropy
            ),
            **{k: v for k, v in evaluation.items() if k != "step"},
        }
    results["entropy/cat0"] = entropy
    drawn = figures.write_run_figures(info_dir, gan_dir)
    prefix = f"fig1_{base.dataset}"
    results["figures"] = _copy(
        {f"{prefix}_info_lb.png": drawn["info_lb"], f"{prefix}_traversals.png": drawn["traversals"]}, docs_dir
    )
    write_json(os.path.join(workdir, "results.json"), results)
    return results


def _train_seeds(base: config_lib.Config, seed_list: list[int], workdir: str, parallel: int) -> dict[int, dict]:
    """`base` trained once per seed in `_seed_dir`s, `parallel` at once (`_train_all`)."""
    runs = {_seed_dir(workdir, seed): dataclasses.replace(base, seed=seed) for seed in seed_list}
    trained = _train_all(runs, parallel)
    return {seed: trained[_seed_dir(workdir, seed)] for seed in seed_list}


def seeds(
    base: config_lib.Config, seed_list: list[int], workdir: str, docs_dir: str | None = None, parallel: int = 1
) -> dict:
    """`base` trained once per seed (`parallel` at once); every eval.json number as mean, std (ddof 0),
    minimum, maximum and per-seed values."""
    if len(seed_list) < 1:
        raise config_lib.ConfigError("--seeds needs at least one seed, e.g. --seeds=0,1,2.")
    per_seed = _train_seeds(base, seed_list, workdir, parallel)
    drawn = {seed: figures.write_run_figures(_seed_dir(workdir, seed)) for seed in seed_list}
    names = sorted(set.intersection(*(set(r) for r in per_seed.values())) - {"step", "wall_seconds_this_call"})
    summary = {
        name: {
            "mean": float(np.mean([r[name] for r in per_seed.values()])),
            "std": float(np.std([r[name] for r in per_seed.values()])),
            "min": float(np.min([r[name] for r in per_seed.values()])),
            "max": float(np.max([r[name] for r in per_seed.values()])),
            "per_seed": {str(s): r[name] for s, r in per_seed.items()},
        }
        for name in names
    }
    first = seed_list[0]
    prefix = f"{base.dataset}_seed{first}"
    results = {
        "dataset": base.dataset,
        "steps": base.steps,
        "seeds": seed_list,
        "metrics": summary,
        "published_dsprites": PUBLISHED_DSPRITES,
        "figures": _copy(
            {f"{prefix}_info_lb.png": drawn[first]["info_lb"], f"{prefix}_traversals.png": drawn[first]["traversals"]},
            docs_dir,
        ),
    }
    write_json(os.path.join(workdir, "results.json"), results)
    return results


def seeds_table(results: dict) -> str:
    """A Markdown table of the mean +- std over seeds; the published dSprites numbers beside MIG and
    FactorVAE when the data has ground-truth factors."""
    metrics = results["metrics"]
    columns = [
        (name, title)
        for name, title in (
            ("mig", "MIG"),
            ("factor_vae", "FactorVAE"),
            ("categorical_accuracy", "categorical accuracy"),
            ("info_lb/cat0", "L_I of cat0 (eval)"),
        )
        if name in metrics
    ]

    def cell(name):
        return f"{metrics[name]['mean']:.3f} ± {metrics[name]['std']:.3f}"

    lines = ["| model | " + " | ".join(title for _, title in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines.append(
        f"| infogan_tf, --dataset={results['dataset']}, {results['steps']} steps, "
        f"{len(results['seeds'])} seeds | " + " | ".join(cell(name) for name, _ in columns) + " |"
    )
    if "mig" in metrics:
        for model, scores in results["published_dsprites"].items():
            published = {"mig": f"{scores['mig']:.2f}", "factor_vae": f"{scores['factor_vae']:.2f}"}
            cells = [published.get(name, "—") for name, _ in columns]
            lines.append(f"| {model} (published, dSprites) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def select(
    base: config_lib.Config,
    seed_list: list[int],
    workdir: str,
    workdirs: list[str] | None = None,
    export: bool = True,
    tflite: bool = True,
    num_samples: int | None = None,
    parallel: int = 1,
    score: str = "dislib",
    checkpoint: str = "latest",
) -> dict:
    """ModelCentrality: `base` trained once per seed (as `seeds` trains it, `parallel` at once), or the
    finished `workdirs` (then nothing is trained), score each other without labels; the most central run is
    chosen and, with `export`, exported as `python export.py --workdir=<chosen>` does (its TFLite files
    only with `tflite`).

    `score` (`--select_score`) is the pair score's FactorVAE variant, `"dislib"` or `"infogan_cr"`, and
    `checkpoint` (`--select_checkpoint`) which checkpoint of each run is scored, `"latest"` or `"best"` (the
    one `--keep_best` kept); see `infogan_tf.selection`. `num_samples`: `selection.cross_scores`'. The
    checkpoint of the chosen run that was scored is the one exported."""
    selection.check_choices(score, checkpoint)
    if workdirs is not None:
        run_dirs = list(workdirs)
    else:
        if len(seed_list) < 2:
            raise config_lib.ConfigError(
                "--recipe=select compares runs: give two seeds or more (e.g. --seeds=0,1,2,3,4) or --workdirs."
            )
        selection.check_spec(LatentSpec.from_config(base))  # before hours of training, not after
        if checkpoint == "best" and not base.keep_best:
            raise config_lib.ConfigError(
                "--select_checkpoint=best scores the checkpoint each run keeps with --keep_best; give --keep_best "
                "(e.g. --keep_best=categorical_accuracy) or --select_checkpoint=latest."
            )
        _train_seeds(base, seed_list, workdir, parallel)
        run_dirs = [_seed_dir(workdir, seed) for seed in seed_list]
    results = selection.select_workdirs(run_dirs, num_samples, score=score, checkpoint=checkpoint)
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "results.json")
    write_json(path, results)  # before the export: a failed export keeps the scores
    if export:
        chosen = results["chosen"]["workdir"]
        scored = results["runs"][results["chosen"]["index"]]["checkpoint"] if checkpoint == "best" else None
        exported = export_lib.export(chosen, checkpoint=scored, tflite=tflite)
        results["export"] = {key: exported[key] for key in ("saved_model", "tflite_dir") if key in exported}
        logging.info("Exported the chosen run %s to %s", chosen, exported["saved_model"])
        write_json(path, results)
    return results


def mnist(
    base: config_lib.Config,
    seed_list: list[int],
    workdir: str,
    screen_steps: int = 2500,
    parallel: int = 1,
    export: bool = True,
    num_samples: int | None = None,
    select_by: str = "slant_share",
) -> dict:
    """Label-free MNIST: `base` trained once per seed to `screen_steps` (`parallel` at once), one run chosen
    on those checkpoints, and only it resumed to `base.steps`, then exported (with `export`). `select_by`:
    `"slant_share"`, the run whose categories explain the least of the training digits' slant
    (`selection.select_by_slant_share`; one-channel images), or `"centrality"`, ModelCentrality
    (`selection.select_workdirs`). `--dataset=npz` needs `--heldout_path` (held-out labelled digits) for the report;
    `--dataset=mnist` scores TFDS's test split. Every run is a workdir of its own, so the recipe resumes where
    it stopped. Returns (and writes to results.json) the pick, the scores, each screened run's eval.json and
    the pick's final one, and the wall time. `num_samples`: `selection.cross_scores`'."""
    start = time.time()
    if len(seed_list) < 2:
        raise config_lib.ConfigError(
            "--recipe=mnist picks among seeds: give two or more (e.g. --seeds=0,1,2,3,4,5,6,7)."
        )
    if not 0 < screen_steps < base.steps:
        raise config_lib.ConfigError(
            f"--screen_steps={screen_steps} must be positive and below --steps={base.steps} (the pick's full budget)."
        )
    if not base.categorical:
        raise config_lib.ConfigError("--recipe=mnist needs a categorical code (e.g. --categorical=10).")
    if select_by not in SELECT_BY:
        raise config_lib.ConfigError(f"--select_by={select_by} must be one of {', '.join(SELECT_BY)}.")
    source = datasets.get(base.dataset)
    adapted = source.adapt_config(base)
    if select_by == "slant_share" and adapted.image_shape[-1] != 1:
        raise config_lib.ConfigError(
            f"--select_by=slant_share measures the slant of one-channel digits, and --dataset={base.dataset} has "
            f"{adapted.image_shape[-1]} channels; use --select_by=centrality."
        )
    # The data, before hours of training; held out when the majority vote has training images apart.
    if source.labelled_eval_set(adapted, 1) is None or source.labelled_fit_set(adapted, 1) is None:
        raise config_lib.ConfigError(
            f"--recipe=mnist reports accuracy on held-out labelled images, and --dataset={base.dataset} holds none "
            "out here: give --heldout_path=test.npz (labelled digits the runs never train on) with --data_path."
        )
    selection.check_spec(LatentSpec.from_config(base))
    path = os.path.join(workdir, "results.json")
    previous = json.load(open(path)) if os.path.exists(path) else {}
    if "chosen" in previous and previous.get("select_by", "centrality") != select_by:
        raise config_lib.ConfigError(
            f"{path} holds a pick made with --select_by={previous.get('select_by', 'centrality')}; resume with that, "
            f"or give a new --workdir for --select_by={select_by}."
        )
    cadence = {"eval_every": screen_steps, "checkpoint_every": math.gcd(base.checkpoint_every, screen_steps)}
    screen = dataclasses.replace(base, steps=screen_steps, **cadence)
    _train_seeds(screen, seed_list, workdir, parallel)
    run_dirs = [_seed_dir(workdir, seed) for seed in seed_list]
    if "chosen" in previous:  # chosen once, on the screened checkpoints: a resumed recipe keeps the pick
        picked = previous["selection"]
    elif select_by == "slant_share":
        picked = selection.select_by_slant_share(run_dirs, source.real_images(adapted, 1 << 20))
    else:
        picked = selection.select_workdirs(run_dirs, num_samples)
    results = {"dataset": base.dataset, "seeds": seed_list, "screen_steps": screen_steps, "steps": base.steps}
    results["select_by"] = select_by
    results["selection"] = picked
    seed = seed_list[picked["chosen"]["index"]]
    results["chosen"] = {"seed": seed, "workdir": run_dirs[picked["chosen"]["index"]]}
    write_json(path, results)  # before the long run: a resumed recipe finds its pick
    chosen = results["chosen"]["workdir"]
    results["final"] = _train(dataclasses.replace(base, seed=seed, **cadence), chosen)
    if export:
        exported = export_lib.export(chosen)
        results["export"] = {key: exported[key] for key in ("saved_model", "tflite_dir") if key in exported}
    results["wall_seconds_this_call"] = time.time() - start
    write_json(path, results)
    return results


def mnist_summary(results: dict) -> str:
    """Two lines: the pick and its held-out scores at the full budget, and what the screened runs scored."""
    final, picked = results["final"], results["selection"]
    screened = [run["eval"].get("categorical_accuracy") for run in picked["runs"]]
    where = "held-out" if final.get("categorical_heldout", 1.0) else "training"
    by = "The lowest slant share" if results.get("select_by") == "slant_share" else "ModelCentrality"
    return (
        f"{by} picked seed {results['chosen']['seed']} of {results['seeds']} at step "
        f"{results['screen_steps']}; at step {results['steps']} its {where} accuracy is "
        f"{final['categorical_accuracy']:.3f} (majority vote {final['categorical_majority_accuracy']:.3f}, NMI "
        f"{final['categorical_nmi']:.3f}).\nThe screened runs' accuracy at step {results['screen_steps']} (read "
        f"for this report only): {', '.join(f'{a:.3f}' for a in screened)}."
    )


# What `select_table` says each pair score is (infogan_tf.selection's module docstring has the details).
SCORE_NAMES = {
    "dislib": "FactorVAE as disentanglement_lib computes it (codes of std < 0.05 pruned, 10,000 votes to fit and "
    "5,000 held out, on one shared pool of latents)",
    "infogan_cr": "FactorVAE as InfoGAN-CR's code computes it (500 votes of 100 fresh latents each, no pruning, "
    "accuracy on the votes it was fitted on)",
}


def select_table(results: dict) -> str:
    """A Markdown table of the symmetrised scores (the diagonal, a run's Q on its own G, in brackets: it
    does not count), each run's centrality, and the eval.json numbers the choice did not use; then a line
    naming the pair score and the checkpoints scored (results written before they could be chosen used
    the `dislib` score on the latest checkpoints)."""
    runs, symmetric = results["runs"], results["scores"]["symmetric"]
    reported = [
        (name, title)
        for name, title in (
            ("categorical_accuracy", "categorical accuracy"),
            ("factor_vae", "FactorVAE"),
            ("mig", "MIG"),
            ("info_lb", "L_I"),
        )
        if all(name in run["eval"] for run in runs)
    ]
    header = ["run"] + [run["name"] for run in runs] + ["centrality"] + [title for _, title in reported]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for i, run in enumerate(runs):
        name = f"**{run['name']}** (chosen)" if i == results["chosen"]["index"] else run["name"]
        scores = [f"({value:.3f})" if i == j else f"{value:.3f}" for j, value in enumerate(symmetric[i])]
        evaluation = [f"{run['eval'][key]:.3f}" for key, _ in reported]
        lines.append("| " + " | ".join([name, *scores, f"{run['centrality']:.3f}", *evaluation]) + " |")
    score = results.get("pair_score", "dislib")
    lines.append("")
    lines.append(
        f"Pair score: {score}, {SCORE_NAMES[score]}, averaged with the categorical codes' matched agreement "
        f"where the model has some; checkpoints scored: {results.get('checkpoint', 'latest')}."
    )
    return "\n".join(lines)

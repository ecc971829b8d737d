"""Figures a person can look at, written by every run into `<workdir>/figures/`:

- `info_lb.png`: L_I per code over training against H(c) (the paper's Fig. 1), with the curves of a
  regular-GAN baseline run (λ = 0, `--baseline_workdir`) dashed beside them when one is given;
- `traversals.png`: the latest traversal grid of every code as captioned panels (the paper's Figs 2-6),
  with the baseline's categorical traversals beside InfoGAN's, as in Fig. 2 (a)/(b).

Drawn with matplotlib's object API (no pyplot, no global backend), from the workdir's files only, so a
figure can be redrawn from any finished or running workdir.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from infogan_tf.config import Config, ConfigError, read_workdir_config

# Q's Gaussian with sigma = 1 on a Unif(-1, 1) code: L_I = ln 2 - ln(2 pi)/2 - E[(c - mu)^2]/2, so a
# perfect Q reaches ln 2 - ln(2 pi)/2 and a Q that always answers 0 gets E[c^2] = 1/3 less half of it.
FIXED_SIGMA_MAX = math.log(2.0) - 0.5 * math.log(2.0 * math.pi)
FIXED_SIGMA_UNINFORMED = FIXED_SIGMA_MAX - 1.0 / 6.0
_SAMPLE = re.compile(r"((?:cat|cont)\d+)_step(\d+)\.png$")


def _code_key(code: str) -> tuple[bool, int]:
    """Sorts codes in the latent spec's order: cat0, cat1, ..., cont0, cont1, ..."""
    kind, index = re.fullmatch(r"(cat|cont)(\d+)", code).groups()
    return kind == "cont", int(index)


def read_metrics(workdir: str) -> list[dict]:
    """The rows of `<workdir>/metrics.jsonl` (one per log step), oldest first."""
    path = os.path.join(workdir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_config(workdir: str) -> Config:
    config = read_workdir_config(workdir)
    if config is None:
        raise ConfigError(f"{workdir} has no config.json; it is not a training workdir.")
    return config


def check_baseline(path: str | None) -> None:
    """A ConfigError unless `path` is a workdir a run has written (its config.json exists)."""
    if path and not os.path.exists(os.path.join(path, "config.json")):
        raise ConfigError(
            f"--baseline_workdir={path} is not a training workdir (no config.json); train the lambda = 0 "
            "baseline there first (--info_weight_cat=0 --info_weight_cont=0) or drop the flag."
        )


def run_label(config: Config) -> str:
    if config.info_weight_cat == 0 and config.info_weight_cont == 0:
        return "regular GAN (λ = 0)"
    return f"InfoGAN (λ_cat = {config.info_weight_cat:g}, λ_cont = {config.info_weight_cont:g})"


def _save(figure: Figure, path: str) -> None:
    """Writes the figure as PNG atomically (readers never see half a file)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    figure.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)


def info_curve(workdir: str, path: str, baseline_workdir: str | None = None) -> None:
    """L_I per code against the training step: categorical codes beside their H(c) = ln K, continuous
    codes beside the fixed-sigma maximum and uninformed values; the baseline's curves dashed."""
    runs = [(workdir, "-")] + ([(baseline_workdir, "--")] if baseline_workdir else [])
    config = read_config(workdir)
    panels = [kind for kind, count in (("cat", len(config.categorical)), ("cont", config.continuous)) if count]
    figure = Figure(figsize=(6.4 * len(panels), 4.4), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    colors = [f"C{i}" for i in range(10)]
    for ax, kind in zip(axes, panels, strict=True):
        count = len(config.categorical) if kind == "cat" else config.continuous
        for run_dir, style in runs:
            rows, label = read_metrics(run_dir), run_label(read_config(run_dir))
            for i in range(count):
                key = f"info_lb/{kind}{i}"
                points = [(row["step"], row[key]) for row in rows if key in row]
                if points:
                    steps, values = zip(*points, strict=True)
                    name = f"{kind}{i}, {label}" if count > 1 else label
                    ax.plot(steps, values, style, color=colors[i % 10], label=name)
        if kind == "cat":
            for k in sorted(set(config.categorical)):
                ax.axhline(
                    math.log(k), color="k", linestyle=":", linewidth=1, label=f"H(c) = ln {k} = {math.log(k):.3f}"
                )
            ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
            ax.set_title("Categorical codes: L_I against H(c)")
        else:
            if config.q_std == "fixed":
                ax.axhline(FIXED_SIGMA_MAX, color="k", linestyle=":", linewidth=1, label="perfect Q (σ = 1)")
                ax.axhline(FIXED_SIGMA_UNINFORMED, color="0.5", linestyle=":", linewidth=1, label="uninformed Q")
            ax.set_title("Continuous codes: L_I")
        ax.set_xlabel("training step")
        ax.set_ylabel("L_I (nats)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    figure.suptitle(f"Information lower bound L_I on --dataset={config.dataset} (training batches)")
    _save(figure, path)


def latest_samples(workdir: str, step: int | None = None) -> tuple[int, dict[str, str]]:
    """(step, {code: PNG path}) of the traversal grids at `step`, or at the latest step that has them."""
    found: dict[int, dict[str, str]] = {}
    for file in glob.glob(os.path.join(workdir, "samples", "*_step*.png")):
        match = _SAMPLE.search(os.path.basename(file))
        if match:
            found.setdefault(int(match.group(2)), {})[match.group(1)] = file
    if not found:
        return -1, {}
    steps = [s for s in found if step is None or s <= step]
    at = max(steps) if steps else min(found)
    return at, found[at]


def code_factors(workdir: str) -> tuple[int | None, dict[str, tuple[str, float]]]:
    """(eval step, {code: (factor, I/H)}): the ground-truth factor each code has the most mutual
    information with, as a fraction of the factor's entropy (eval.json's `mi/<code>/<factor>`)."""
    path = os.path.join(workdir, "eval.json")
    if not os.path.exists(path):
        return None, {}
    with open(path) as f:
        results = json.load(f)
    best: dict[str, tuple[str, float]] = {}
    for key, value in results.items():
        if key.startswith("mi/"):
            _, code, factor = key.split("/", 2)
            if code not in best or value > best[code][1]:
                best[code] = (factor, value)
    return results.get("step"), best


def _caption(config: Config, code: str, baseline: bool, factor: tuple[str, float] | None = None) -> str:
    is_cont, index = _code_key(code)
    if not is_cont:
        text = f"Varying {code} ~ Cat({config.categorical[index]}): one category per column"
    else:
        text = f"Varying {code} from −2 to 2 (training prior: −1 to 1)"
    if factor and not baseline:
        text += f"; most informative of {factor[0]} (I/H {factor[1]:.2f})"
    return text + (" — regular GAN (λ = 0)" if baseline else "")


def traversal_figure(workdir: str, path: str, step: int | None = None, baseline_workdir: str | None = None) -> None:
    """Every code's traversal grid at `step` (default: the latest) as lettered, captioned panels: rows
    are fixed noise samples, columns the code's values; the baseline's categorical grids follow
    InfoGAN's, as the paper's Fig. 2 (a) and (b)."""
    config = read_config(workdir)
    at, grids = latest_samples(workdir, step)
    if not grids:
        raise FileNotFoundError(f"{workdir}/samples has no traversal grids yet.")
    panels = []
    base_at, base_grids = latest_samples(baseline_workdir, at) if baseline_workdir else (-1, {})
    eval_step, factors = code_factors(workdir)
    for code in sorted(grids, key=_code_key):
        panels.append((grids[code], _caption(config, code, False, factors.get(code))))
        if code.startswith("cat") and code in base_grids:
            panels.append((base_grids[code], _caption(config, code, True)))
    images = [np.asarray(Image.open(file)) for file, _ in panels]
    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    height = max(image.shape[0] for image in images) / 100 + 0.5
    width = max(image.shape[1] for image in images) / 100
    figure = Figure(figsize=(cols * max(width, 3.6) + 0.2, rows * height + 0.5), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for n, (ax, image, (_, caption)) in enumerate(zip(axes, images, panels, strict=False)):
        ax.imshow(image.squeeze(), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"({chr(ord('a') + n)}) {caption}", fontsize=9, wrap=True)
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    steps = f"step {at}" + (f" (baseline: step {base_at})" if base_grids else "")
    if factors:
        steps += f", factors' mutual information from eval.json at step {eval_step}"
    figure.suptitle(f"Latent traversals, --dataset={config.dataset}, {steps}\neach row: one fixed noise sample")
    _save(figure, path)


def write_run_figures(workdir: str, baseline_workdir: str | None = None) -> dict[str, str]:
    """Redraws `<workdir>/figures/info_lb.png` and `traversals.png`; returns their paths."""
    out = {
        "info_lb": os.path.join(workdir, "figures", "info_lb.png"),
        "traversals": os.path.join(workdir, "figures", "traversals.png"),
    }
    info_curve(workdir, out["info_lb"], baseline_workdir)
    traversal_figure(workdir, out["traversals"], baseline_workdir=baseline_workdir)
    return out

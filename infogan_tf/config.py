"""One config source: a dataclass, one preset per dataset, flags override, JSON in the workdir.

Every hyperparameter of a run lives in `Config`. Each dataset's preset is defined by its data source
(`infogan_tf.datasets`): the paper's values where its appendix gives them (arXiv:1606.03657, Appendix C)
and our choices elsewhere, each commented; `PRESETS` reads them through the registry.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import os
from typing import Any

from infogan_tf import datasets

ARCHITECTURES = ("mnist", "svhn", "chairs", "dcgan64", "infogan_cr")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker")
MIXED_PRECISION = ("auto", "none", "bf16", "fp16")
Q_STD = ("fixed", "learned")
Q_OPTIMIZER = ("d", "g")
BN_STATISTICS = ("real", "all")
# eval.json values `--keep_best` can keep the best checkpoint by (higher is better for each).
KEEP_BEST = ("mig", "factor_vae", "categorical_accuracy", "info_lb", "diversity_ratio")
WEIGHT_INIT = ("keras", "dcgan")
IMAGE_SIZES = (0, 28, 32, 64)  # --image_size: 0 = from the data


class ReportedError(Exception):
    """An error whose message says what to do: the command-line tools print it in one line, no traceback."""


class ConfigError(ReportedError, ValueError):
    """A user-caused configuration problem; the message names the flag or file."""


@dataclasses.dataclass(frozen=True)
class Config:
    """A fully resolved InfoGAN run configuration."""

    dataset: str = "shapes"
    # Latent spec: z ~ Unif(-1, 1)^noise_dim (as the original code), one Cat(K) per entry of
    # `categorical`, `continuous` Unif(-1, 1) codes.
    noise_dim: int = 62
    categorical: tuple[int, ...] = (10,)
    continuous: int = 2
    # What G multiplies z by at its input: z itself stays Unif(-1, 1) wherever it is drawn or served (the
    # SavedModel signatures, `generate_from_seed`, the explorer), so only G's reading of it changes.
    noise_scale: float = 1.0
    # lambda of the information term, per code type (the paper: 1 for discrete, smaller for
    # continuous codes). Both 0 = the regular-GAN baseline of Fig. 1 (Q is still trained).
    info_weight_cat: float = 1.0
    info_weight_cont: float = 0.1
    q_std: str = "fixed"  # fixed: sigma = 1; learned: Q predicts a clamped log-sigma.
    # Width of Q's own FC-BN-lReLU layer between the shared body and Q's outputs (the MNIST and SVHN
    # networks of Appendix C); 0 = none, Q's outputs read the shared features (chairs and faces).
    q_hidden: int = 128
    # Which optimiser holds Q's own layers (`Discriminator.q_variables`): "d", D's (the original code: body,
    # D head and Q head learn `D loss - lambda L_I` with lr_d), or "g", G's (Natsu6767's port): then D's
    # loss has no information term, so the shared body learns from D's loss alone, and Q's layers learn
    # `-lambda L_I` with G, at lr_g, on the G update's fakes.
    q_optimizer: str = "d"
    # What D's BatchNorm moving statistics (used in inference: eval.json, `encode`, the explorer) are
    # averaged over: "real" batches only (so Q reads real images as in training), or "all" batches D
    # sees in training, 2/3 of them fake (the original code and most ports). Training is the same.
    bn_statistics: str = "real"
    architecture: str = "mnist"
    # Whether D and Q batch-normalise (every conv but the first, the shared FC and Q's own layer);
    # None = the architecture's choice (all but `infogan_cr`, whose D has spectral norm instead).
    d_batch_norm: bool | None = None
    # Kernel initialisation: Keras' default (Glorot uniform) or DCGAN's N(0, 0.02) (the original code's).
    weight_init: str = "keras"
    image_shape: tuple[int, int, int] = (28, 28, 1)
    # --dataset=npz / folder: the side the images are resized to, and so the architecture (28: mnist, 32:
    # svhn, 64: dcgan64); 0 = the nearest of those to the data's own side.
    image_size: int = 0
    # Optimiser: Adam (Appendix C) with beta1 = 0.5 (the original code's); G learns faster than D
    # (Appendix C's learning rates).
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    beta1: float = 0.5
    # G updates per D/Q update, each on the step's same latents (1: the original InfoGAN code;
    # InfoGAN-CR's code runs G's update twice).
    g_steps: int = 1
    # Whether G's updates draw latents of their own (the original code: each update samples its prior
    # anew) instead of reusing the D update's; G then makes its images again, in a second pass.
    fresh_g_latents: bool = False
    # D/Q's lReLU slope; None = the architecture's (0.1 as Appendix C says; 0.2 for `infogan_cr`). The
    # original code's `leaky_rectify` uses 0.01.
    leaky_slope: float | None = None
    # Spectral normalisation (models.SpectralNorm: W / sigma(W), the gradient through sigma) of every D/Q
    # kernel, as InfoGAN-CR's D.
    spectral_norm: bool = False
    # InfoGAN-CR's contrastive regulariser (Lin et al. 2020): a classifier told which code a pair of
    # generated images shares, which G helps; weight 0 = off. It joins at `cr_start_step` (the
    # classifier starts training there), and the other continuous codes of a pair are at least
    # `cr_gap` apart. `lr_cr`: the classifier's Adam learning rate.
    cr_weight: float = 0.0
    cr_start_step: int = 0
    cr_gap: float = 0.0
    lr_cr: float = 2e-3
    # Elastic-InfoGAN's regulariser (Ojha et al. 2019): NT-Xent between what Q's output units read
    # (`q_features`) in a real image and in a copy rotated, zoomed and shifted, the batch's other images
    # the negatives; weight 0 = off (their run script: 10, temperature 1). It trains Q's own layers, with
    # whichever optimiser holds them (`q_optimizer`); with `elastic_body` the shared body learns from it too.
    elastic_weight: float = 0.0
    elastic_temperature: float = 1.0
    elastic_body: bool = False
    # Augmentation consistency of the categorical code (IMSAT's self-augmented training): KL from Q's
    # categories for a real image to its categories for Elastic's rotated, zoomed and shifted copy; the
    # body learns from it with D's optimiser (`q_optimizer=d`). Weight 0 = off.
    consistency_weight: float = 0.0
    # The largest rotation, in degrees each way, of the copies both terms above compare (Elastic's ±20°).
    augment_rotation: float = 20.0
    batch_size: int = 64  # global: split over replicas.
    steps: int = 10_000
    seed: int = 0
    strategy: str = "auto"
    devices: tuple[str, ...] = ()
    logical_cpus: int = 0
    # None / "auto": decided for the devices at start-up (infogan_tf.performance): XLA on one replica,
    # bf16 where the hardware computes in it. config.json records what was decided.
    jit_compile: bool | None = None
    mixed_precision: str = "auto"
    log_every: int = 100
    checkpoint_every: int = 1000
    sample_every: int = 1000
    eval_every: int = 1000
    eval_samples: int = 1024  # fresh samples for the information bound in eval.json.
    # Labelled real images the categorical code is scored on in eval.json (MNIST's whole test split): the
    # first of a held-out split, or drawn uniformly from the training data; as many again from the training
    # data fit the majority-vote mapping.
    labelled_eval_samples: int = 10_000
    # The run warns (progress line, end-of-run summary) when G's samples vary less than this fraction of
    # the real images' variation (`diversity_ratio`, evaluate.sample_diversity): G has collapsed. 0 = never.
    # Measured (BUILD_NOTES.md 2026-12-04): healthy runs stay above 0.2 from step 50; a collapsed G falls to
    # ~0.001.
    diversity_floor: float = 0.1
    # An eval.json value (`KEEP_BEST`): the checkpoint of the evaluation where it is highest is kept in
    # checkpoints/best/ (with that evaluation in best.json), out of the rotation; "" = off.
    keep_best: str = ""
    # Real images with ground-truth factors for MIG and FactorVAE: disentanglement_lib's 10,000
    # (MIG's num_train, FactorVAE's num_variance_estimate).
    factor_eval_samples: int = 10_000
    deterministic: bool = False
    data_dir: str | None = None
    manual_dir: str | None = None
    data_path: str | None = None
    # Labelled images the run never trains on (`--dataset=npz`: an .npz with 'labels'; `folder`: a folder of
    # label subfolders): eval.json scores the categorical code on them instead of on the training data.
    heldout_path: str | None = None
    download: bool = True
    # The variant of the dataset's preset applied before the flags (`PRESET_VARIANTS`), "" = none.
    preset: str = ""
    # The workdir of a regular-GAN run (lambda = 0) whose curves and traversals the figures show beside
    # this run's (the paper's Figs 1 and 2b); it does not change training.
    baseline_workdir: str | None = None

    @property
    def latent_fields(self) -> dict[str, Any]:
        """The fields that fix the checkpoint's variables: they must match on resume."""
        return {
            "noise_dim": self.noise_dim,
            "categorical": list(self.categorical),
            "continuous": self.continuous,
            "q_std": self.q_std,
            "q_hidden": self.q_hidden,
            "q_optimizer": self.q_optimizer,
            # the data iterator hands out (image, augmented) pairs
            "paired_data": self.elastic_weight > 0 or self.consistency_weight > 0,
            "architecture": self.architecture,
            "d_batch_norm": self.d_batch_norm,
            "spectral_norm": self.spectral_norm,
            "image_shape": list(self.image_shape),
        }

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Config:
        raw = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        raw = {k: v for k, v in raw.items() if k in names}
        for key in ("categorical", "image_shape", "devices"):
            if key in raw and raw[key] is not None:
                raw[key] = tuple(raw[key])
        return cls(**raw)


class _Presets(collections.abc.Mapping):
    """`--dataset` name -> its preset, each defined by its data source (`infogan_tf.datasets`)."""

    def __getitem__(self, dataset: str) -> Config:
        return datasets.get(dataset).preset

    def __iter__(self):
        return iter(datasets.names())

    def __len__(self) -> int:
        return len(datasets.names())


PRESETS = _Presets()


# Variants of a dataset's preset, chosen with `--preset`, applied before the flags.
# `infogan_cr`: InfoGAN-CR's dSprites setup (Lin et al., ICML 2020, "InfoGAN-CR and ModelCentrality"),
# every value from their public code, fjxmlzn/InfoGAN-CR, InfoGAN-CR_dSprites/: config.py (the run's
# values), gan_task.py (the latent), gan/infogan_cr.py (the training loop), gan/network.py and
# gan/op.py (the networks). For 64x64 single-channel images: shapes, dsprites, or a dSprites .npz.
PRESET_VARIANTS: dict[str, dict[str, Any]] = {
    "infogan_cr": {
        "noise_dim": 5,  # "uniform_not_reg_dim": 5 Unif(-1, 1) inputs Q does not read
        "categorical": (),
        "continuous": 5,  # "uniform_reg_dim": 5 Unif(-1, 1) codes
        "info_weight_cont": 0.05,  # "info_coe_de" = "info_coe_infod" = 0.05 (G's and D's lambda)
        "q_std": "fixed",  # UniformLatent(q_std=1.0)
        "q_hidden": 128,  # "q_l_dim": 128
        "architecture": "infogan_cr",  # network.py's Decoder, InfoGANDiscriminator, CrDiscriminator
        "weight_init": "dcgan",  # op.py: kernels from N(0, 0.02)
        "spectral_norm": True,  # every InfoGANDiscriminator layer is built with sn_op
        "lr_g": 1e-3,  # "de_lr"
        "lr_d": 2e-3,  # "infod_lr"
        "lr_cr": 2e-3,  # "crd_lr"
        "beta1": 0.5,  # de_beta1, infod_beta1, crd_beta1
        "g_steps": 2,  # train(): de_op runs twice per iteration, after crd_op and infod_op
        "batch_size": 64,  # "batch_size"
        "steps": 322_560,  # "epoch": 28 passes over dSprites' 737,280 images at 64 (11,520 steps each)
        "cr_weight": 2.0,  # cr_coe starts at 0 ("cr_coe_start") and rises once by "cr_coe_increase": 2.0
        "cr_start_step": 288_000,  # ... at "cr_coe_increase_batch": 288000, 25 of the 28 epochs
        "cr_gap": 0.0,  # "gap_start": 0.0, never decreased ("gap_decrease_times": 0)
        # Our cadences for a run of this length.
        "log_every": 100,
        "checkpoint_every": 2000,
        "sample_every": 5000,
        "eval_every": 5000,
        "consistency_weight": 0.0,  # no categorical code to keep (the npz preset's term is for MNIST's)
    },
}


def parse_categorical(text: str) -> tuple[int, ...]:
    """Parses `--categorical` ("10", "20,20,20,20" or "" for none) into category counts."""
    text = text.strip()
    if not text or text.lower() == "none":
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--categorical={text!r} is not a comma-separated list of category counts; "
            "use e.g. --categorical=10 or --categorical=20,20,20,20."
        ) from None
    if any(k < 2 for k in sizes):
        raise ConfigError(f"--categorical={text!r}: every categorical code needs at least 2 categories.")
    return sizes


def resolve(dataset: str, overrides: dict[str, Any], preset: str = "") -> Config:
    """Returns the dataset's preset, its `preset` variant (`PRESET_VARIANTS`) if one is named, and
    `overrides` (flag values the user set) applied in that order."""
    if dataset not in datasets.names():
        raise ConfigError(
            f"--dataset={dataset!r} is not available; choose one of {', '.join(sorted(datasets.names()))}."
        )
    source = datasets.get(dataset)
    base = source.preset
    if preset:
        if preset not in PRESET_VARIANTS:
            raise ConfigError(f"--preset={preset!r} is not available; choose one of {', '.join(PRESET_VARIANTS)}.")
        if base.image_shape != (64, 64, 1) and not source.shape_from_data:
            raise ConfigError(
                f"--preset={preset} is for 64x64 single-channel images (shapes, dsprites, or --dataset=npz), "
                f"not --dataset={dataset}."
            )
        base = dataclasses.replace(base, **PRESET_VARIANTS[preset], preset=preset)
    config = dataclasses.replace(base, **overrides)
    validate(config)
    if config.heldout_path and not source.shape_from_data:
        raise ConfigError(
            f"--heldout_path sets held-out labelled images for --dataset=npz or folder; --dataset={dataset} "
            "scores its own held-out split, or has none (drop --heldout_path)."
        )
    if config.image_size and not source.shape_from_data:
        raise ConfigError(
            f"--image_size={config.image_size} sets the side of --dataset=npz or folder images; --dataset={dataset} "
            "has its own (drop --image_size)."
        )
    return config


def validate(config: Config) -> None:
    """Raises ConfigError with one sentence naming the flag for every inconsistent value."""
    checks = [
        (config.steps > 0, f"--steps={config.steps} must be a positive number of steps."),
        (config.batch_size > 0, f"--batch_size={config.batch_size} must be positive."),
        (config.noise_dim >= 0, f"--noise_dim={config.noise_dim} must be zero or positive."),
        (config.continuous >= 0, f"--continuous={config.continuous} must be zero or positive."),
        (
            config.noise_dim + sum(config.categorical) + config.continuous > 0,
            "The latent spec is empty: set --noise_dim, --categorical or --continuous.",
        ),
        (config.info_weight_cat >= 0, "--info_weight_cat must be zero or positive."),
        (config.info_weight_cont >= 0, "--info_weight_cont must be zero or positive."),
        (config.q_std in Q_STD, f"--q_std={config.q_std!r} must be one of {Q_STD}."),
        (config.q_hidden >= 0, f"--q_hidden={config.q_hidden} must be zero (no hidden layer) or a width."),
        (config.weight_init in WEIGHT_INIT, f"--weight_init={config.weight_init!r} must be one of {WEIGHT_INIT}."),
        (
            config.bn_statistics in BN_STATISTICS,
            f"--bn_statistics={config.bn_statistics!r} must be one of {BN_STATISTICS}.",
        ),
        (config.strategy in STRATEGIES, f"--strategy={config.strategy!r} must be one of {STRATEGIES}."),
        (
            config.mixed_precision in MIXED_PRECISION,
            f"--mixed_precision={config.mixed_precision!r} must be one of {MIXED_PRECISION}.",
        ),
        (config.lr_g > 0 and config.lr_d > 0, "--lr_g and --lr_d must be positive."),
        (config.g_steps >= 1, f"--g_steps={config.g_steps} must be at least 1 (G updates per D update)."),
        (config.noise_scale > 0, f"--noise_scale={config.noise_scale} must be positive (1: z as it is drawn)."),
        (
            config.leaky_slope is None or 0 <= config.leaky_slope < 1,
            f"--leaky_slope={config.leaky_slope} must be in [0, 1) (0.1: Appendix C; 0.01: the original code).",
        ),
        (config.q_optimizer in Q_OPTIMIZER, f"--q_optimizer={config.q_optimizer!r} must be one of d, g."),
        (
            not (
                config.q_optimizer == "g"
                and (
                    (config.categorical and config.info_weight_cat == 0)
                    or (config.continuous and config.info_weight_cont == 0)
                )
            ),
            "--q_optimizer=g trains Q on G's information term, which a code with lambda 0 (--info_weight_cat, "
            "--info_weight_cont) does not have; use --q_optimizer=d.",
        ),
        (config.cr_weight >= 0, f"--cr_weight={config.cr_weight} must be zero (off) or positive."),
        (config.cr_start_step >= 0, f"--cr_start_step={config.cr_start_step} must be zero or a step number."),
        (
            0 <= config.cr_gap < 2,
            f"--cr_gap={config.cr_gap} must be in [0, 2): the distance two Unif(-1, 1) codes can be apart.",
        ),
        (config.lr_cr > 0, f"--lr_cr={config.lr_cr} must be positive."),
        (config.elastic_weight >= 0, f"--elastic_weight={config.elastic_weight} must be zero (off) or positive."),
        (config.elastic_temperature > 0, f"--elastic_temperature={config.elastic_temperature} must be positive."),
        (
            0 <= config.augment_rotation <= 180,
            f"--augment_rotation={config.augment_rotation} must be an angle in degrees from 0 to 180.",
        ),
        (
            config.consistency_weight >= 0,
            f"--consistency_weight={config.consistency_weight} must be zero (off) or positive.",
        ),
        (
            not (config.consistency_weight > 0 and not config.categorical),
            f"--consistency_weight={config.consistency_weight} acts on the categorical codes, and --categorical "
            "gives none; add one, or set --consistency_weight=0 (the mnist, npz and digits presets set 1).",
        ),
        (
            not (config.elastic_weight > 0 and config.q_hidden == 0 and not config.elastic_body),
            "--elastic_weight trains Q's own layers, and --q_hidden=0 leaves Q none but its output units; "
            "add --elastic_body so the shared features it compares learn from it, or set --q_hidden.",
        ),
        (
            not (config.cr_weight > 0 and len(config.categorical) + config.continuous < 2),
            "--cr_weight needs at least two codes (--categorical, --continuous) for the pairs to tell apart.",
        ),
        (config.logical_cpus >= 0, "--logical_cpus must be zero (off) or a device count."),
        (config.architecture in ARCHITECTURES, f"architecture must be one of {ARCHITECTURES}."),
        (
            config.keep_best in ("",) + KEEP_BEST,
            f"--keep_best={config.keep_best!r} must be one of {', '.join(KEEP_BEST)} (an eval.json value), or unset.",
        ),
        (
            0 <= config.diversity_floor < 1,
            f"--diversity_floor={config.diversity_floor} must be in [0, 1): a fraction of the real images' diversity.",
        ),
        (
            config.image_size in IMAGE_SIZES,
            f"--image_size={config.image_size} must be one of 28, 32 or 64 (the sides the networks are built for), "
            "or 0 for the nearest to the data's.",
        ),
        (config.eval_samples > 0, f"--eval_samples={config.eval_samples} must be a positive number of samples."),
        (
            config.labelled_eval_samples > 0,
            f"--labelled_eval_samples={config.labelled_eval_samples} must be a positive number of images.",
        ),
        (
            config.factor_eval_samples > 1,
            f"--factor_eval_samples={config.factor_eval_samples} must be at least 2 images.",
        ),
        (
            not (config.devices and config.strategy in ("default", "multi_worker")),
            f"--devices lists devices to mirror over, which --strategy={config.strategy} does not do; "
            "use --strategy=mirrored (or auto), or drop --devices.",
        ),
        (
            not (config.logical_cpus > 1 and config.strategy == "default"),
            f"--logical_cpus={config.logical_cpus} splits the CPU for mirroring, which --strategy=default does "
            "not do; use --strategy=mirrored (or auto), or drop --logical_cpus.",
        ),
    ]
    for cadence in ("log_every", "checkpoint_every", "sample_every", "eval_every"):
        checks.append((getattr(config, cadence) > 0, f"--{cadence} must be a positive step count."))
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def read_workdir_config(workdir: str) -> Config | None:
    """The `config.json` a run wrote in `workdir`, None if there is none; ConfigError if unreadable."""
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        try:
            return Config.from_json(f.read())
        except (ValueError, TypeError) as e:
            raise ConfigError(
                f"{path} is not a valid config file ({e}); move it away or use a new --workdir."
            ) from None


def check_workdir(config: Config, workdir: str) -> None:
    """Read-only, before a run writes anything: `workdir` can be written, and a `config.json` already
    there (a run to resume) is for the same model (latent spec and architecture). ConfigError if not."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError(f"--workdir={workdir} is a file, not a directory; choose another --workdir.")
    existing = os.path.abspath(workdir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--workdir={workdir} cannot be written ({existing} is not a writable directory); "
            "choose a --workdir you can write to."
        )
    stored = read_workdir_config(workdir)
    if stored is not None:
        path = os.path.join(workdir, "config.json")
        if stored.latent_fields != config.latent_fields:
            there, asked = stored.latent_fields, config.latent_fields
            differences = "; ".join(
                f"{k} {there[k]} there, {asked[k]} asked for" for k in there if there[k] != asked[k]
            )
            if there["paired_data"] != asked["paired_data"]:
                differences += (
                    " (pairs of real images come with --elastic_weight or --consistency_weight > 0; the mnist and "
                    "npz presets set --consistency_weight=1 since 2026-12-06)"
                )
            raise ConfigError(
                f"{path} was written for a different model than the flags ask for ({differences}); use a new "
                "--workdir or the original flags."
            )


def write_or_check(config: Config, workdir: str) -> None:
    """`check_workdir`, then writes `config.json` (atomically)."""
    check_workdir(config, workdir)
    path = os.path.join(workdir, "config.json")
    os.makedirs(workdir, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(config.to_json())
    os.replace(tmp, path)

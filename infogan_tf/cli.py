"""The training flags, shared by `train.py` and `reproduce.py`: every `Config` field a user can set.

Only flags the user set override the dataset's preset (`config_from_flags`).
"""

import dataclasses

from absl import flags, logging

from infogan_tf import config as config_lib
from infogan_tf import datasets

FLAGS = flags.FLAGS
flags.DEFINE_string("dataset", "digits", f"Dataset (and its preset): {', '.join(datasets.names())}.")
flags.DEFINE_string("workdir", None, "Run directory (default runs/<dataset>); the same workdir resumes.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_string("manual_dir", None, "Folder with files downloaded by hand (chairs, faces, CelebA).")
flags.DEFINE_string("data_path", None, "Image folder or .npz file for --dataset=folder/npz.")
flags.DEFINE_string(
    "heldout_path",
    None,
    "Labelled images the run never trains on, for eval.json's categorical scores: an .npz with 'labels' "
    "(--dataset=npz) or a folder of label subfolders (--dataset=folder).",
)
flags.DEFINE_boolean("download", None, "Let TFDS download the dataset.")
flags.DEFINE_integer(
    "image_size", None, "--dataset=npz/folder: resize images to this side, 28, 32 or 64 (default: the nearest)."
)
flags.DEFINE_integer("steps", None, "Training steps.")
flags.DEFINE_integer("batch_size", None, "Global batch size, split over replicas.")
flags.DEFINE_integer("seed", None, "Random seed.")
flags.DEFINE_integer("noise_dim", None, "Size of the incompressible noise z.")
flags.DEFINE_string("categorical", None, "Categorical codes: '10', '20,20,20,20', or '' for none.")
flags.DEFINE_integer("continuous", None, "Number of Unif(-1, 1) continuous codes.")
flags.DEFINE_float("info_weight_cat", None, "lambda for categorical codes (0 with cont = regular GAN).")
flags.DEFINE_float("info_weight_cont", None, "lambda for continuous codes.")
flags.DEFINE_enum("q_std", None, config_lib.Q_STD, "Q's Gaussian sigma: fixed (1) or learned.")
flags.DEFINE_enum(
    "bn_statistics", None, config_lib.BN_STATISTICS, "D's BN moving statistics from real batches only, or all."
)
flags.DEFINE_integer("q_hidden", None, "Width of Q's own hidden layer; 0 = Q's outputs read D's features.")
flags.DEFINE_enum("weight_init", None, config_lib.WEIGHT_INIT, "Kernel init: Keras' default or DCGAN's N(0, 0.02).")
flags.DEFINE_float("lr_g", None, "Generator Adam learning rate.")
flags.DEFINE_float("lr_d", None, "Discriminator/Q Adam learning rate.")
flags.DEFINE_integer("g_steps", None, "G updates per D/Q update.")
flags.DEFINE_boolean("fresh_g_latents", None, "G's updates draw latents of their own instead of reusing D's.")
flags.DEFINE_float("noise_scale", None, "G reads noise_scale * z (z stays Unif(-1, 1) wherever drawn or served).")
flags.DEFINE_float("leaky_slope", None, "D/Q's lReLU slope (default: the architecture's, 0.1 as Appendix C).")
flags.DEFINE_enum(
    "q_optimizer", None, config_lib.Q_OPTIMIZER, "Q's own layers learn with D's optimiser (d) or G's (g, at --lr_g)."
)
flags.DEFINE_boolean("spectral_norm", None, "Spectral normalisation of D/Q's kernels.")
flags.DEFINE_boolean("d_batch_norm", None, "Batch norm in D/Q (default: the architecture's choice).")
flags.DEFINE_float("cr_weight", None, "InfoGAN-CR's contrastive regulariser weight for G (0 = off).")
flags.DEFINE_integer("cr_start_step", None, "Step at which the contrastive regulariser starts.")
flags.DEFINE_float("cr_gap", None, "Least distance of a CR pair's other continuous codes.")
flags.DEFINE_float("elastic_weight", None, "Elastic-InfoGAN's NT-Xent weight on Q's features of real pairs (0 = off).")
flags.DEFINE_float("elastic_temperature", None, "Elastic-InfoGAN's NT-Xent temperature.")
flags.DEFINE_boolean("elastic_body", None, "Let the shared D/Q body learn from Elastic-InfoGAN's term too.")
flags.DEFINE_float(
    "augment_rotation",
    None,
    "Largest rotation, in degrees each way, of the copies --elastic_weight and --consistency_weight compare.",
)
flags.DEFINE_float(
    "consistency_weight", None, "Weight of KL(Q(c|x) || Q(c|augmented x)) on the categorical codes (0 = off)."
)
flags.DEFINE_float("lr_cr", None, "The CR classifier's Adam learning rate.")
flags.DEFINE_string(
    "preset",
    None,
    f"A variant of the dataset's preset, applied before the flags: {', '.join(config_lib.PRESET_VARIANTS)}.",
)
flags.DEFINE_enum("strategy", None, config_lib.STRATEGIES, "tf.distribute strategy.")
flags.DEFINE_list("devices", None, "Devices to mirror over, e.g. /gpu:0,/gpu:1.")
flags.DEFINE_integer("logical_cpus", None, "Split the host CPU into N logical devices (tests, demos).")
flags.DEFINE_boolean("jit_compile", None, "XLA-compile the training step.")
flags.DEFINE_enum("mixed_precision", None, config_lib.MIXED_PRECISION, "Mixed precision policy.")
flags.DEFINE_integer("log_every", None, "Steps between progress lines and metrics.jsonl rows.")
flags.DEFINE_integer("checkpoint_every", None, "Steps between checkpoints.")
flags.DEFINE_integer("sample_every", None, "Steps between traversal images.")
flags.DEFINE_integer("eval_every", None, "Steps between evaluations (eval.json).")
flags.DEFINE_integer("eval_samples", None, "Fresh samples for the information bound in eval.json.")
flags.DEFINE_integer(
    "labelled_eval_samples", None, "Labelled real images the categorical code is scored on in eval.json."
)
flags.DEFINE_integer("factor_eval_samples", None, "Real images with factors for MIG and FactorVAE.")
flags.DEFINE_boolean("deterministic", None, "Op determinism and fixed seeds.")
flags.DEFINE_string(
    "keep_best",
    None,
    f"Keep the checkpoint of the evaluation with the highest value of this eval.json entry "
    f"({', '.join(config_lib.KEEP_BEST)}) in <workdir>/checkpoints/best/.",
)
flags.DEFINE_float(
    "diversity_floor", None, "Warn when G's samples vary less than this fraction of real images' variation (0: never)."
)
flags.DEFINE_string(
    "baseline_workdir", None, "Workdir of a lambda = 0 run whose curves the figures/ of this run show beside its own."
)


def config_from_flags(dataset: str | None = None) -> config_lib.Config:
    """The preset of `dataset` (default --dataset) with the flags the user set applied."""
    parsed = ("dataset", "categorical", "devices", "preset")  # need parsing or are handled apart
    names = [f.name for f in dataclasses.fields(config_lib.Config) if f.name in FLAGS and f.name not in parsed]
    overrides = {name: FLAGS[name].value for name in names if FLAGS[name].value is not None}
    if FLAGS.devices is not None:
        overrides["devices"] = tuple(FLAGS.devices)
    if FLAGS.categorical is not None:
        overrides["categorical"] = config_lib.parse_categorical(FLAGS.categorical)
    return config_lib.resolve(dataset or FLAGS.dataset, overrides, FLAGS.preset or "")


def exit_on_user_error(function):
    """Runs `function()`; a ReportedError (a ConfigError, TrainingDiverged) becomes its one-line message and
    exit status 1 (no traceback: the message says what to do)."""
    try:
        return function()
    except config_lib.ReportedError as error:
        logging.error("%s", error)
        raise SystemExit(f"error: {error}") from None

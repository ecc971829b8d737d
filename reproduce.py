"""Reproduces the paper's claims, one command each (`infogan_tf.recipes`); takes every train.py flag too.

python reproduce.py --recipe=fig1                      # Fig. 1 + unsupervised accuracy on real digits
python reproduce.py --recipe=fig1 --dataset=mnist      # the same on MNIST, where TFDS can download
python reproduce.py --recipe=seeds --seeds=0,1,2       # MIG / FactorVAE on shapes over 3 seeds
python reproduce.py --recipe=seeds --parallel=2        # the same, two seeds at a time, one per core
python reproduce.py --recipe=select --seeds=0,1,2,3,4  # the most central of 5 digits runs, exported
python reproduce.py --recipe=select --workdirs=A,B,C   # the same among finished runs, training none
python reproduce.py --recipe=select --workdirs=A,B,C --select_score=infogan_cr --select_checkpoint=best
                                                       # the paper's pair score, on the --keep_best checkpoints
python reproduce.py --recipe=mnist --dataset=npz --data_path=mnist_full/train.npz \
    --heldout_path=mnist_full/test.npz --seeds=0,1,2,3,4,5,6,7 --parallel=2
                                                       # 8 seeds to 2,500 steps, the most central one to 10,000,
                                                       # exported, its held-out accuracy (no labels in the pick)

Runs go to --workdir (default runs/<recipe>_<dataset>), results to <workdir>/results.json, figures
also to --docs_dir when given.
"""

import json

from absl import app, flags, logging

from infogan_tf import cli, recipes
from infogan_tf.config import ConfigError

FLAGS = cli.FLAGS
flags.DEFINE_enum("recipe", None, ["fig1", "seeds", "select", "mnist"], "What to reproduce.", required=True)
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds for --recipe=seeds, select and mnist.")
flags.DEFINE_integer(
    "screen_steps", 2500, "--recipe=mnist: every seed trains this many steps; the pick goes on to --steps."
)
flags.DEFINE_string("docs_dir", None, "Also copy the recipe's figures here (e.g. docs).")
flags.DEFINE_list("workdirs", None, "--recipe=select among these finished runs instead of training --seeds.")
flags.DEFINE_integer(
    "parallel",
    1,
    "--recipe=seeds, select and mnist: train this many seeds at once, each in a process of its own on its own share "
    "of the CPU cores, its log in <workdir>/seed<N>.log (a small model gains: two runs on one core each train "
    "1.38x the images/s of one on both). 1: one after another in this process.",
)
flags.DEFINE_boolean("export", True, "--recipe=select and mnist: export the chosen run (as export.py does).")
flags.DEFINE_enum(
    "select_score",
    "dislib",
    ["dislib", "infogan_cr"],
    "--recipe=select: the pair score's FactorVAE part. dislib: disentanglement_lib's (std pruning, 10,000 votes "
    "to fit, 5,000 held out, one shared pool of 2,048 latents); infogan_cr: the paper's own (500 votes of 100 "
    "fresh latents, no pruning, accuracy on the votes fitted). See infogan_tf/selection.py.",
)
flags.DEFINE_enum(
    "select_checkpoint",
    "latest",
    ["latest", "best"],
    "--recipe=select: score (and export) each run's latest checkpoint, or the one --keep_best kept in "
    "<run>/checkpoints/best/.",
)

flags.DEFINE_enum(
    "select_by",
    "slant_share",
    list(recipes.SELECT_BY),
    "--recipe=mnist: how the pick is made among the screened runs, without labels. slant_share: the run whose "
    "first categorical code explains the least of the training digits' slant (one-channel images; see "
    "BUILD_NOTES); centrality: ModelCentrality.",
)

# Flags that only one recipe reads.
RECIPE_FLAGS = {"select_score": "select", "select_checkpoint": "select", "select_by": "mnist"}
# The dataset when --dataset is not given: fig1 and select on real handwritten digits that need no download.
DEFAULT_DATASETS = {"fig1": "digits", "seeds": "shapes", "select": "digits", "mnist": "mnist"}


def main(argv):
    del argv
    dataset = FLAGS.dataset if FLAGS["dataset"].present else DEFAULT_DATASETS[FLAGS.recipe]
    workdir = FLAGS.workdir or f"runs/{FLAGS.recipe}_{dataset}"

    def run():
        config = cli.config_from_flags(dataset)
        if FLAGS.workdirs is not None and (FLAGS.recipe != "select" or FLAGS["seeds"].present):
            raise ConfigError(
                "--workdirs picks among finished runs for --recipe=select instead of training --seeds; give it "
                "only with --recipe=select and without --seeds."
            )
        for name, recipe in RECIPE_FLAGS.items():
            if FLAGS[name].present and FLAGS.recipe != recipe:
                raise ConfigError(f"--{name} is a choice of --recipe={recipe}; give it only with --recipe={recipe}.")
        if FLAGS.recipe == "fig1":
            return recipes.fig1(config, workdir, FLAGS.docs_dir)
        try:
            seed_list = [int(seed) for seed in FLAGS.seeds]
        except ValueError:
            raise ConfigError(f"--seeds={','.join(FLAGS.seeds)} must be integers, e.g. 0,1,2.") from None
        shared = {"parallel": FLAGS.parallel, "export": FLAGS.export}
        if FLAGS.recipe == "mnist":
            return recipes.mnist(config, seed_list, workdir, FLAGS.screen_steps, select_by=FLAGS.select_by, **shared)
        if FLAGS.recipe == "select":
            choices = {"score": FLAGS.select_score, "checkpoint": FLAGS.select_checkpoint}
            return recipes.select(config, seed_list, workdir, FLAGS.workdirs, **choices, **shared)
        return recipes.seeds(config, seed_list, workdir, FLAGS.docs_dir, parallel=FLAGS.parallel)

    try:
        results = cli.exit_on_user_error(run)
    except recipes.Interrupted as stopped:
        logging.warning("%s", stopped)
        return
    logging.info("Results (%s/results.json):\n%s", workdir, json.dumps(results, indent=2, sort_keys=True))
    tables = {"seeds": recipes.seeds_table, "select": recipes.select_table, "mnist": recipes.mnist_summary}
    if FLAGS.recipe in tables:
        print(tables[FLAGS.recipe](results))


if __name__ == "__main__":
    app.run(main)

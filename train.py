"""Trains InfoGAN: flags -> config -> `infogan_tf.train.train_and_evaluate(config, workdir)`.

python train.py                       # digits, the offline default (real handwritten digits)
python train.py --steps=200 --workdir=/tmp/quick
python train.py --dataset=chairs --manual_dir=DIR   # DIR holds rendered_chairs.tar
python train.py --dataset=digits --info_weight_cat=0 --info_weight_cont=0 --workdir=runs/gan
python train.py --dataset=digits --baseline_workdir=runs/gan   # figures/ show both runs
"""

from absl import app

from infogan_tf import cli

FLAGS = cli.FLAGS


def main(argv):
    del argv
    config = cli.exit_on_user_error(cli.config_from_flags)
    # TensorFlow is imported after the flags are checked: a mistyped flag is answered in a second, not ten.
    from infogan_tf import train

    cli.exit_on_user_error(lambda: train.train_and_evaluate(config, FLAGS.workdir or f"runs/{FLAGS.dataset}"))


if __name__ == "__main__":
    app.run(main)

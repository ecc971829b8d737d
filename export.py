"""Exports a trained run: `infogan_tf.export.export(workdir, ...)`.

python export.py --workdir=runs/shapes            # runs/shapes/export/<N>/ and runs/shapes/export/tflite/
python export.py --workdir=W --export_dir=/models/infogan --version=3 --quantize=none
"""

from absl import app, flags, logging

from infogan_tf import export
from infogan_tf.config import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "The training run's workdir (config.json and checkpoints/).", required=True)
flags.DEFINE_string("export_dir", None, "TF Serving model base path (default <workdir>/export).")
flags.DEFINE_integer("version", None, "Version number N of E/<N> (default: the next integer).")
flags.DEFINE_string("checkpoint", None, "Checkpoint to export (default: the workdir's latest).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing version.")
flags.DEFINE_boolean("tflite", True, "Also write TFLite generators to E/tflite/.")
flags.DEFINE_list("quantize", ["none", "float16", "dynamic_int8"], "TFLite variants: none, float16, dynamic_int8.")


def main(argv):
    del argv
    try:
        result = export.export(
            FLAGS.workdir,
            export_dir=FLAGS.export_dir,
            version=FLAGS.version,
            checkpoint=FLAGS.checkpoint,
            overwrite=FLAGS.overwrite,
            tflite=FLAGS.tflite,
            quantize=tuple(FLAGS.quantize),
        )
    except ConfigError as error:
        logging.error("%s", error)
        raise SystemExit(f"error: {error}") from None
    logging.info("SavedModel: %s (from %s)", result["saved_model"], result["checkpoint"])
    for name, info in result["tflite"].items():
        logging.info(
            "TFLite %s: %d bytes; |difference| to the SavedModel: max %.2g, mean %.2g",
            name,
            info["bytes"],
            info["max"],
            info["mean"],
        )


if __name__ == "__main__":
    app.run(main)

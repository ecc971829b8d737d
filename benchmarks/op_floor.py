"""The fastest a preset's training step can be on this machine: its matmuls and convolutions alone.

python benchmarks/op_floor.py                       # the MNIST preset at its batch size (64)
python benchmarks/op_floor.py --batch_size=128 --peer_images_per_s=217.6

Every MatMul, Conv2D and transposed convolution (Conv2DBackpropInput) of G's and D/Q's forward pass is
taken from the traced graphs of the preset's own models, and each is timed alone, compiled with XLA,
in exactly the passes the training step puts it through (`infogan_tf.gan.InfoGAN.replica_step`):
- G's ops on the batch: forward, and backward to the weights and to the data input (not for the first
  op, whose input is the latent);
- D/Q's ops on real and fake together (2x the batch), D step: forward, backward to the weights and to
  the data input (not for the first op, whose input is the images);
- D/Q's ops on the batch, G step: forward, and backward to the data input only.
Each op's time is the median of `--calls` calls of a compiled function that runs just that op and its
gradients (so it includes one function dispatch, some tens of microseconds), from the fastest of
`--rounds` rounds. The sum is the time of a step that did nothing else (no batch norm, activation,
loss, optimiser, copy, nor any overlap between ops) at these ops' isolated speed: `floor_images_per_s` is what such
a step would run at. With `--peer_images_per_s`, the ratio that floor allows against a peer.
The last line is `floor_images_per_s=<N>`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from absl import app, flags

from infogan_tf import cli, models, performance
from infogan_tf import config as config_lib

FLAGS = flags.FLAGS
FLAGS.set_default("dataset", "mnist")
flags.DEFINE_integer("rounds", 3, "Rounds of timed calls per op; the fastest round's median is used.")
flags.DEFINE_integer("calls", 10, "Timed calls of each op per round.")
flags.DEFINE_float("peer_images_per_s", None, "A peer's images/s at this batch size, to print the ratio.")

# Op type -> (its data operand, its weight operand), by the raw op's argument names.
HEAVY_OPS = {"MatMul": ("a", "b"), "Conv2D": ("input", "filter"), "Conv2DBackpropInput": ("out_backprop", "filter")}


def heavy_ops(function, *specs: tf.TensorSpec) -> list[dict]:
    """The matmuls and convolutions of `function`'s traced graph, in graph order: each its type, the
    shapes of its tensor operands and its attributes, enough to run it again with `tf.raw_ops`."""
    graph = performance.forward_graph(function, *specs)
    found = []
    for op in graph.get_operations():
        if op.type not in HEAVY_OPS:
            continue
        names = [arg.name for arg in op.op_def.input_arg]
        operands, constants = {}, {}
        for name, tensor in zip(names, op.inputs, strict=True):
            value = tf.get_static_value(tensor) if tensor.dtype == tf.int32 else None
            if value is not None:
                constants[name] = value  # e.g. a transposed convolution's output size
            else:
                operands[name] = tensor.shape.as_list()
        attrs = {a.name: op.get_attr(a.name) for a in op.op_def.attr if a.name != "T"}
        found.append({"type": op.type, "name": op.name, "operands": operands, "constants": constants, "attrs": attrs})
    return found


def _with_batch(op: dict, batch: int) -> dict:
    """`op` on another batch size: every operand (and size) whose first dimension is the batch."""
    data = HEAVY_OPS[op["type"]][0]
    old = op["operands"][data][0]
    scale = lambda shape: [batch * shape[0] // old, *shape[1:]] if shape[0] % old == 0 else shape  # noqa: E731
    operands = {k: (scale(v) if k == data else v) for k, v in op["operands"].items()}
    constants = {
        k: np.array([batch, *v[1:]], v.dtype) if v.ndim == 1 and v[0] == old else v for k, v in op["constants"].items()
    }
    return {**op, "operands": operands, "constants": constants}


def time_op(op: dict, grad_data: bool, grad_weights: bool, rounds: int, calls: int) -> float:
    """Seconds of one forward pass of `op` plus the requested gradients, alone, under XLA."""
    data, weight = HEAVY_OPS[op["type"]]
    rng = np.random.default_rng(0)
    values = {k: tf.constant(rng.standard_normal(shape, np.float32)) for k, shape in op["operands"].items()}
    raw = getattr(tf.raw_ops, op["type"])
    wanted = [name for name, want in ((data, grad_data), (weight, grad_weights)) if want]

    def once(values):
        with tf.GradientTape() as tape:
            tape.watch([values[name] for name in wanted])
            out = raw(**values, **op["constants"], **op["attrs"])
            loss = tf.reduce_sum(out * out)
        outputs = [out] + (tape.gradient(loss, [values[name] for name in wanted]) if wanted else [])
        return [tf.reduce_sum(t) for t in outputs]  # every result is used; only scalars come back

    compiled = tf.function(once, jit_compile=True)
    compiled(values)
    run = lambda: [t.numpy() for t in compiled(values)]  # noqa: E731
    return min(performance.median_seconds(run, calls) for _ in range(rounds))


def measure(config: config_lib.Config, rounds: int, calls: int) -> dict:
    """Per op and pass, the isolated seconds; and the floor of the step's time and its images/s."""
    generator, discriminator = models.build_models(config)
    batch = config.batch_size
    g_ops = heavy_ops(lambda latent: generator(latent, training=True), generator.spec.tensor_specs(batch))
    d_ops = heavy_ops(lambda x: discriminator(x, training=True), tf.TensorSpec([batch, *config.image_shape]))
    passes = []
    for i, op in enumerate(g_ops):
        passes.append(("G", op, i > 0, True))
    for i, op in enumerate(d_ops):
        passes.append(("D step (real+fake)", _with_batch(op, 2 * batch), i > 0, True))
    for op in d_ops:
        passes.append(("G step (D on fake)", op, True, False))
    rows = [
        {"pass": name, "op": op["name"], "type": op["type"], "seconds": time_op(op, dx, dw, rounds, calls)}
        for name, op, dx, dw in passes
    ]
    seconds = sum(row["seconds"] for row in rows)
    return {"rows": rows, "floor_seconds_per_step": seconds, "floor_images_per_s": batch / seconds}


def main(argv):
    del argv
    config = cli.exit_on_user_error(cli.config_from_flags)
    result = measure(config, FLAGS.rounds, FLAGS.calls)
    for row in result["rows"]:
        print(f"{row['pass']:20s} {row['type']:20s} {row['op']:50s} {1e3 * row['seconds']:8.3f} ms")
    print(
        f"infogan_tf tf-{tf.__version__} dataset={config.dataset} batch={config.batch_size} "
        f"floor_s_per_step={result['floor_seconds_per_step']:.4f}"
    )
    if FLAGS.peer_images_per_s:
        print(f"floor_ratio_to_peer={result['floor_images_per_s'] / FLAGS.peer_images_per_s:.2f}")
    print(f"floor_images_per_s={result['floor_images_per_s']:.1f}")


if __name__ == "__main__":
    app.run(main)

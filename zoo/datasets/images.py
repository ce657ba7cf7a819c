"""Datasets that work offline, as ``tf.data.Dataset``s of (image, label) with deterministic splits.

- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images), the embedded default.
- ``mnist``: MNIST through tensorflow-datasets, from a ``data_dir`` where it is already prepared
  (nothing is downloaded).
Images are float32 in [0, 1] with a trailing channel axis; labels are int32.
"""

import numpy as np
import tensorflow as tf

SPLITS = ("train", "eval")


def digits_arrays(split, eval_fraction=0.2, seed=0):
    """The digits split as NumPy arrays ``(images [n, 8, 8, 1], labels [n])``: a fixed, stratified
    shuffle, so every call and every machine sees the same examples."""
    from sklearn.datasets import load_digits

    if split not in SPLITS:
        raise ValueError(f"digits: unknown split {split!r}; choose one of {SPLITS}.")
    if not 0 < eval_fraction < 1:
        raise ValueError(f"digits: eval_fraction must be in (0, 1), got {eval_fraction!r}.")
    data = load_digits()
    images = (data.images / 16.0).astype("float32")[..., None]
    labels = data.target.astype("int32")
    rng = np.random.default_rng(seed)
    eval_index = []
    for label in np.unique(labels):  # stratified: each class keeps its share in both splits
        members = rng.permutation(np.flatnonzero(labels == label))
        eval_index.extend(members[:int(round(eval_fraction * len(members)))])
    in_eval = np.zeros(len(labels), bool)
    in_eval[eval_index] = True
    chosen = in_eval if split == "eval" else ~in_eval
    order = rng.permutation(np.flatnonzero(chosen))
    return images[order], labels[order]


def digits(split="train", batch_size=None, eval_fraction=0.2, seed=0):
    """scikit-learn's 8x8 digits as a Dataset of (image [8, 8, 1], label); batched when
    ``batch_size`` is given."""
    images, labels = digits_arrays(split, eval_fraction, seed)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    return dataset.batch(batch_size) if batch_size else dataset


def mnist(split="train", data_dir=None, batch_size=None):
    """MNIST (28x28) from tensorflow-datasets' prepared copy in ``data_dir`` (its ``train`` and
    ``test`` splits serve as train and eval). Raises a ValueError saying how to prepare it when
    it is missing: nothing is downloaded."""
    import tensorflow_datasets as tfds

    if split not in SPLITS:
        raise ValueError(f"mnist: unknown split {split!r}; choose one of {SPLITS}.")
    builder = tfds.builder("mnist", data_dir=data_dir)
    try:
        dataset = builder.as_dataset(split="train" if split == "train" else "test", as_supervised=True,
                                     shuffle_files=False)
    except (AssertionError, FileNotFoundError, tf.errors.NotFoundError) as error:  # tfds asserts it is prepared
        raise ValueError(
            f"mnist: no prepared copy of tensorflow-datasets' 'mnist' in {builder.data_dir!r}. odezoo never "
            "downloads; on a machine with network access run tfds.builder('mnist', data_dir=DIR)"
            ".download_and_prepare() and pass data_dir=DIR, or use zoo.datasets.digits().") from error
    dataset = dataset.map(lambda image, label: (tf.cast(image, tf.float32) / 255.0, tf.cast(label, tf.int32)))
    return dataset.batch(batch_size) if batch_size else dataset

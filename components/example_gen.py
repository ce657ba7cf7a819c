"""ExampleGen for the zoo's embedded datasets and tensorflow-datasets.

Writes GZIP TFRecords of ``tf.Example`` into ``Split-train`` and ``Split-eval`` of an Examples
artifact, the layout every standard TFX component reads. Each example holds ``image`` (the pixels
in [0, 1], row-major, a float list) and ``label`` (an int64).
"""

import os

import numpy as np
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

import zoo
from components.tasks.classification.features import LABEL


def split_arrays(source, split, limit=0):
    """(images, labels) of one split of ``source``: ``digits`` or ``tfds:NAME`` (already prepared)."""
    if source == "digits":
        images, labels = zoo.datasets.digits_arrays(split)
    elif source.startswith("tfds:"):
        import tensorflow_datasets as tfds

        name, _, data_dir = source[len("tfds:"):].partition("@")
        builder = tfds.builder(name, data_dir=data_dir or None)
        tfds_split = "train" if split == "train" else ("test" if "test" in builder.info.splits else "validation")
        dataset = tfds.as_numpy(builder.as_dataset(split=tfds_split, as_supervised=True, shuffle_files=False))
        pairs = [(np.asarray(image, np.float32) / 255.0, label)
                 for _, (image, label) in zip(range(limit) if limit else iter(int, 1), dataset)]
        images, labels = np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    else:
        raise ValueError(f"ZooExampleGen: unknown source {source!r}; use 'digits' or 'tfds:NAME'.")
    if limit:
        images, labels = images[:limit], labels[:limit]
    return images, labels


@component
def ZooExampleGen(examples: OutputArtifact[standard_artifacts.Examples], source: Parameter[str],  # noqa: N802
                  limit: Parameter[int] = 0):
    """Writes ``source`` (``digits`` or ``tfds:NAME[@DATA_DIR]``) as train and eval splits; ``limit``
    caps the examples per split (0: all)."""
    for split in zoo.datasets.SPLITS:
        images, labels = split_arrays(source, split, limit)
        folder = os.path.join(examples.uri, f"Split-{split}")
        tf.io.gfile.makedirs(folder)
        path = os.path.join(folder, "data_tfrecord-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for image, label in zip(images, labels):
                writer.write(zoo.export.image_example(image, label, label_feature=LABEL))
    examples.split_names = artifact_utils.encode_split_names(list(zoo.datasets.SPLITS))

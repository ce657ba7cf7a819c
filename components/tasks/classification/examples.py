"""The images ZooExampleGen writes for the classification task: the embedded ``digits`` or a
prepared ``tfds:NAME[@DATA_DIR]``, each example holding ``image`` (the pixels in [0, 1], row-major,
a float list) and ``label`` (an int64)."""

import numpy as np

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


def serialized_examples(source, split, limit, options):
    del options  # the images need none
    images, labels = split_arrays(source, split, limit)
    for image, label in zip(images, labels):
        yield zoo.export.image_example(image, label, label_feature=LABEL)

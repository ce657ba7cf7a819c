"""What every task's ``run_fn`` shares: reading Transform's examples, the base model of a
fine-tuning run, one replica per GPU, and the files written beside the SavedModel."""

import json
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from components.tasks import KERAS_FILE  # noqa: E402

# Beside the SavedModel: how the model was trained and what it takes, for tools that read it back.
MODEL_INFO_FILE = "odezoo.json"


def transformed_features(file_pattern, transform_output, batch_size, shuffle):
    """Batches of Transform's examples as feature dicts (GZIP TFRecords matching ``file_pattern``,
    one pattern or a list, as TFX's ``FnArgs`` give them)."""
    spec = transform_output.transformed_feature_spec()
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(file for pattern in patterns for file in tf.io.gfile.glob(pattern))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if shuffle:
        dataset = dataset.shuffle(4096, seed=0)
    return dataset.batch(batch_size).map(lambda records: tf.io.parse_example(records, spec))


def _beside_base_model(path, name):
    """The file ``name`` saved beside a base model, or None."""
    # TFX hands over <artifact uri>/Format-Serving, which an imported folder does not have.
    for folder in (path, os.path.dirname(path.rstrip("/"))):
        if tf.io.gfile.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


def load_base_model(path):
    """The Keras model of a pushed model's folder or of a preset saved by the command line."""
    keras_file = _beside_base_model(path, KERAS_FILE)
    if keras_file:
        return keras.saving.load_model(keras_file)
    raise ValueError(f"Trainer: the base model {path!r} has no {KERAS_FILE}; give a pushed odezoo model or a preset.")


def distribution_strategy():
    # Several GPUs (a Kubeflow Trainer pod with --gpus N): one replica per GPU.
    gpus = tf.config.list_physical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def save_beside(model, directory, info):
    """``model.keras`` (for fine-tuning) and ``odezoo.json`` (``info``) beside the SavedModel."""
    model.save(os.path.join(directory, KERAS_FILE))
    with tf.io.gfile.GFile(os.path.join(directory, MODEL_INFO_FILE), "w") as handle:
        handle.write(json.dumps({**info, "keras": KERAS_FILE}))


def base_model_info(path):
    """What ``save_beside`` recorded beside a base model (empty for a preset's folder)."""
    info_file = _beside_base_model(path, MODEL_INFO_FILE)
    if not info_file:
        return {}
    with tf.io.gfile.GFile(info_file) as handle:
        return json.load(handle)

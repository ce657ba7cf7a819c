"""Trainer's module code: ``components.tasks.classification.trainer.run_fn`` (a dotted path).

Builds a zoo model by name from ``custom_config`` (or warm-starts from ``base_model``'s
``model.keras``), trains it with ``fit`` on the transformed examples (progress and TensorBoard logs in
the run's ``model_run_dir``; a base model trains its classifier head alone for the first
``frozen_body_epochs``, then the whole model), and exports a SavedModel whose ``serving_default`` takes serialized
``tf.Example``s (``examples``) with a float feature ``image``, the height * width * channels pixels in
[0, 1], row-major, and returns ``logits``, ``probabilities`` and ``classes`` (int32): the layout of
Transform's output, so that a model serves alike whatever source it was trained on
(``zoo.export_saved_model``'s ``serve_examples``; ``serve_images`` takes image arrays).
``model.keras`` lies beside it, for fine-tuning.
"""

import json
import math
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402

import zoo  # noqa: E402
from components.tasks import KERAS_FILE  # noqa: E402
from components.tasks.classification.features import IMAGE, LABEL  # noqa: E402


def build_model(config, image_shape):
    model_class = zoo.models.family(config["model"]).MODEL
    options = dict(config.get("model_options", {}))
    return model_class(input_shape=image_shape, num_classes=int(config["num_classes"]), **options)


def image_shape(pixels, channels=1):
    side = math.isqrt(pixels // channels)
    if side * side * channels != pixels:
        raise ValueError(f"Trainer: {pixels} pixels do not make a square image with {channels} channel(s).")
    return (side, side, channels)


def _dataset(file_pattern, transform_output, batch_size, shape, shuffle):
    spec = transform_output.transformed_feature_spec()
    files = tf.io.gfile.glob(file_pattern if isinstance(file_pattern, str) else file_pattern[0])
    for pattern in ([] if isinstance(file_pattern, str) else file_pattern[1:]):
        files += tf.io.gfile.glob(pattern)
    dataset = tf.data.TFRecordDataset(sorted(files), compression_type="GZIP")
    if shuffle:
        dataset = dataset.shuffle(4096, seed=0)
    dataset = dataset.batch(batch_size).map(lambda records: tf.io.parse_example(records, spec))
    return dataset.map(lambda features: (tf.reshape(features[IMAGE], (-1,) + shape), features[LABEL]))


def _base_model(path):
    # TFX hands over <artifact uri>/Format-Serving, which an imported folder does not have.
    for folder in (path, os.path.dirname(path.rstrip("/"))):
        keras_file = os.path.join(folder, KERAS_FILE)
        if tf.io.gfile.exists(keras_file):
            return keras.saving.load_model(keras_file)
    raise ValueError(f"Trainer: the base model {path!r} has no {KERAS_FILE}; give a pushed odezoo model or a preset.")


def run_fn(fn_args):
    config = dict(fn_args.custom_config or {})
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    pixels = transform_output.transformed_feature_spec()[IMAGE].shape[-1]
    shape = image_shape(int(pixels))
    batch_size = int(config["batch_size"])
    train = _dataset(fn_args.train_files, transform_output, batch_size, shape, shuffle=True)
    evaluation = _dataset(fn_args.eval_files, transform_output, 256, shape, shuffle=False)

    keras.utils.set_random_seed(int(config.get("seed", 0)))
    # Several GPUs (a Kubeflow Trainer pod with --gpus N): one replica per GPU.
    gpus = tf.config.list_physical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    with strategy.scope():
        model = _base_model(fn_args.base_model) if fn_args.base_model else build_model(config, shape)
    epochs = int(config["epochs"])
    frozen_epochs = min(int(config["frozen_body_epochs"]), epochs)
    if frozen_epochs:
        _fit(model, strategy, config, train, evaluation, 0, frozen_epochs, True, fn_args.model_run_dir)
    if epochs > frozen_epochs:
        _fit(model, strategy, config, train, evaluation, frozen_epochs, epochs, False, fn_args.model_run_dir)
    _set_trainable(model, head_only=False)  # the saved model.keras fine-tunes whole
    export(model, fn_args.serving_model_dir, shape)


def _set_trainable(model, head_only):
    for layer in model.layers:
        layer.trainable = not head_only or layer.name == zoo.models.odenet.HEAD


def _fit(model, strategy, config, train, evaluation, first_epoch, last_epoch, head_only, log_dir):
    """Epochs ``first_epoch`` to ``last_epoch`` with a fresh Adam; ``head_only`` trains the classifier
    alone, on the body's features as they are."""
    _set_trainable(model, head_only)
    with strategy.scope():
        model.compile(optimizer=keras.optimizers.Adam(float(config["learning_rate"])),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(train, initial_epoch=first_epoch, epochs=last_epoch, validation_data=evaluation, verbose=2,
              callbacks=[keras.callbacks.TensorBoard(log_dir=log_dir)])


def export(model, directory, shape):
    zoo.export_saved_model(model, directory, default_signature="examples")
    model.save(os.path.join(directory, KERAS_FILE))
    with tf.io.gfile.GFile(os.path.join(directory, "odezoo.json"), "w") as handle:
        handle.write(json.dumps({"image_shape": list(shape), "keras": KERAS_FILE}))

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

import math
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402

import zoo  # noqa: E402
from components.tasks import training  # noqa: E402
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
    features = training.transformed_features(file_pattern, transform_output, batch_size, shuffle)
    return features.map(lambda batch: (tf.reshape(batch[IMAGE], (-1,) + shape), batch[LABEL]))


def run_fn(fn_args):
    config = dict(fn_args.custom_config or {})
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    pixels = transform_output.transformed_feature_spec()[IMAGE].shape[-1]
    shape = image_shape(int(pixels))
    batch_size = int(config["batch_size"])
    train = _dataset(fn_args.train_files, transform_output, batch_size, shape, shuffle=True)
    evaluation = _dataset(fn_args.eval_files, transform_output, 256, shape, shuffle=False)

    keras.utils.set_random_seed(int(config.get("seed", 0)))
    strategy = training.distribution_strategy()
    with strategy.scope():
        model = training.load_base_model(fn_args.base_model) if fn_args.base_model else build_model(config, shape)
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
    training.save_beside(model, directory, {"image_shape": list(shape)})

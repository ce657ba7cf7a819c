"""Trainer's module code: ``components.trainer.run_fn`` (a dotted path).

Builds a zoo model by name from ``custom_config`` (or warm-starts from ``base_model``'s
``model.keras``), trains it with ``fit`` on the transformed examples (progress and TensorBoard logs in
the run's ``model_run_dir``), and exports a SavedModel with two signatures:

- ``serving_default``: serialized raw ``tf.Example``s -> the Transform graph -> the model ->
  ``logits``, ``probabilities``, ``classes``;
- ``transform_features``: serialized raw ``tf.Example``s -> the transformed features (the Evaluator
  reads the label from them);

and ``model.keras`` beside it, for fine-tuning.
"""

import json
import math
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402

import zoo  # noqa: E402
from components.preprocessing import IMAGE, LABEL  # noqa: E402

MODELS = {"odenet": zoo.ODENetClassifier}
KERAS_FILE = "model.keras"


def build_model(config, image_shape):
    name = config.get("model", "odenet")
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; choose one of: {', '.join(MODELS)}.")
    options = dict(config.get("model_options", {}))
    return MODELS[name](input_shape=image_shape, num_classes=int(config["num_classes"]), **options)


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
    batch_size = int(config.get("batch_size", 64))
    train = _dataset(fn_args.train_files, transform_output, batch_size, shape, shuffle=True)
    evaluation = _dataset(fn_args.eval_files, transform_output, 256, shape, shuffle=False)

    keras.utils.set_random_seed(int(config.get("seed", 0)))
    # Several GPUs (a Kubeflow Trainer pod with --gpus N): one replica per GPU.
    gpus = tf.config.list_physical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    with strategy.scope():
        model = _base_model(fn_args.base_model) if fn_args.base_model else build_model(config, shape)
        model.compile(optimizer=keras.optimizers.Adam(float(config.get("learning_rate", 3e-3))),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(train, epochs=int(config.get("epochs", 1)), validation_data=evaluation, verbose=2,
              callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)])
    export(model, transform_output, fn_args.serving_model_dir, shape)


def export(model, transform_output, directory, shape):
    module = zoo.export.serving_module(model)
    module.transform_layer = transform_output.transform_features_layer()
    raw_spec = transform_output.raw_feature_spec()
    serving_spec = {name: spec for name, spec in raw_spec.items() if name != LABEL}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(serialized):
        features = module.transform_layer(tf.io.parse_example(serialized, serving_spec))
        logits = model(tf.reshape(features[IMAGE], (-1,) + shape), training=False)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits),
                "classes": tf.argmax(logits, axis=-1, output_type=tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(serialized):
        return module.transform_layer(tf.io.parse_example(serialized, raw_spec))

    module.serve, module.transform_features = serve, transform_features
    tf.saved_model.save(module, directory, signatures={"serving_default": serve,
                                                       "transform_features": transform_features})
    model.save(os.path.join(directory, KERAS_FILE))
    with tf.io.gfile.GFile(os.path.join(directory, "odezoo.json"), "w") as handle:
        handle.write(json.dumps({"image_shape": list(shape), "keras": KERAS_FILE}))

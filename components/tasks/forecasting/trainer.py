"""Trainer's module code: ``components.tasks.forecasting.trainer.run_fn`` (a dotted path).

Builds a series model by name from ``custom_config`` (``zoo.models.family(name).MODEL`` with the
data's number of features), or warm-starts from ``base_model``'s ``model.keras``; trains it with
``fit`` on Transform's scaled series (its default loss: the latent ODE's negative ELBO, the
forecasters' MSE); and exports a SavedModel that serves without odezoo:

- ``serving_default`` (``serve_examples``): serialized raw ``tf.Example``s (float lists ``times``
  (T), ``values`` and ``mask`` (T * D, row-major), ``query_times`` (Q), in the data's units, any
  T and Q; a batch of different lengths is padded) -> ``mean`` (B, Q, D) in the data's units;
- ``serve_series``: the same as tensors (``times`` (B, T), ``values`` and ``mask`` (B, T, D),
  ``query_times`` (B, Q));
- ``serve_transformed``: Transform's examples -> ``mean`` (B, Q * D) standardized, what the
  Evaluator scores against the transformed ``targets``.

The scaling Transform learned (``scaling``) is read from the transformed examples and held in the
SavedModel as constants. ``model.keras`` lies beside it, for fine-tuning, and ``forecasts.png``,
a few eval series with their observations, forecasts and (latent ODE) posterior bands.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402

import zoo  # noqa: E402
from components.tasks import training  # noqa: E402
from components.tasks.forecasting import scaling  # noqa: E402
from components.tasks.forecasting.evaluation import EVAL_SIGNATURE  # noqa: E402
from components.tasks.forecasting.features import (MASK, QUERY_TIMES, TARGETS, TIME_ORIGIN, TIME_SCALE, TIMES,  # noqa: E402
                                                   VALUE_MEAN, VALUE_STD, VALUES)

PICTURE_FILE = "forecasts.png"
PICTURE_SERIES = 4
PICTURE_SAMPLES = 32


def _model_inputs(batch, length, features):
    series = lambda key: tf.reshape(batch[key], (-1, length, features))  # noqa: E731
    return {TIMES: batch[TIMES], VALUES: series(VALUES), MASK: series(MASK), QUERY_TIMES: batch[QUERY_TIMES]}


def _dataset(file_pattern, transform_output, batch_size, shape, shuffle):
    length, queries, features = shape
    batches = training.transformed_features(file_pattern, transform_output, batch_size, shuffle)
    return batches.map(lambda batch: (_model_inputs(batch, length, features),
                                      tf.reshape(batch[TARGETS], (-1, queries, features))))


def build_model(config, features):
    model_class = zoo.models.family(config["model"]).MODEL
    return model_class(features=features, **dict(config.get("model_options", {})))


def _checked_base_model(path, features):
    model = training.load_base_model(path)
    taken = model.input[VALUES].shape[-1]
    if taken != features:
        raise ValueError(f"Trainer: the base model {path!r} takes series of {taken} feature(s), but the data's have "
                         f"{features}; fine-tune it on data of the same features or train from scratch.")
    return model


def run_fn(fn_args):
    config = dict(fn_args.custom_config or {})
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    spec = transform_output.transformed_feature_spec()
    shape = (spec[TIMES].shape[-1], spec[QUERY_TIMES].shape[-1], spec[VALUE_MEAN].shape[-1])
    train = _dataset(fn_args.train_files, transform_output, int(config["batch_size"]), shape, shuffle=True)
    evaluation = _dataset(fn_args.eval_files, transform_output, 256, shape, shuffle=False)

    keras.utils.set_random_seed(int(config.get("seed", 0)))
    strategy = training.distribution_strategy()
    with strategy.scope():
        model = (_checked_base_model(fn_args.base_model, shape[2]) if fn_args.base_model
                 else build_model(config, shape[2]))
        model.compile(optimizer=keras.optimizers.Adam(float(config["learning_rate"])))
    model.fit(train, epochs=int(config["epochs"]), validation_data=evaluation, verbose=2,
              callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)])
    first = next(iter(training.transformed_features(fn_args.train_files, transform_output, 1, shuffle=False)))
    scale = {key: first[key][0].numpy() for key in (VALUE_MEAN, VALUE_STD, TIME_SCALE)}
    export(model, fn_args.serving_model_dir, scale, shape)
    eval_batch = next(iter(training.transformed_features(fn_args.eval_files, transform_output, PICTURE_SERIES,
                                                         shuffle=False)))
    draw_forecasts(model, eval_batch, shape, scale, os.path.join(fn_args.serving_model_dir, PICTURE_FILE))


def serving_signatures(model, scale, shape):
    """The signatures of the module docstring, around ``model`` and the learned ``scale``."""
    length, queries, features = shape
    value_mean, value_std = (tf.constant(scale[key], tf.float32) for key in (VALUE_MEAN, VALUE_STD))
    time_scale = tf.constant(scale[TIME_SCALE], tf.float32)
    series_specs = [tf.TensorSpec([None, None, features] if key in (VALUES, MASK) else [None, None], tf.float32,
                                  name=key) for key in zoo.export.SERIES_FEATURES]

    @tf.function(input_signature=series_specs)
    def serve_series(times, values, mask, query_times):
        inputs = scaling.scale({TIMES: times, VALUES: values, MASK: mask, QUERY_TIMES: query_times},
                               value_mean, value_std, time_scale)
        return {"mean": scaling.unscale_values(model(inputs, training=False), value_mean, value_std)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        return serve_series(**zoo.export.parse_series_examples(serialized, features))

    transformed_spec = {TIMES: tf.io.FixedLenFeature([length], tf.float32),
                        QUERY_TIMES: tf.io.FixedLenFeature([queries], tf.float32),
                        VALUES: tf.io.FixedLenFeature([length * features], tf.float32),
                        MASK: tf.io.FixedLenFeature([length * features], tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_transformed(serialized):
        batch = tf.io.parse_example(serialized, transformed_spec)
        mean = model(_model_inputs(batch, length, features), training=False)
        return {"mean": tf.reshape(mean, (-1, queries * features))}

    return {"serve_examples": serve_examples, "serve_series": serve_series, EVAL_SIGNATURE: serve_transformed}


def export(model, directory, scale, shape):
    module = zoo.export.serving_module(model)
    signatures = serving_signatures(model, scale, shape)
    for name, function in signatures.items():
        setattr(module, name, function)
    signatures["serving_default"] = signatures["serve_examples"]
    tf.saved_model.save(module, directory, signatures=signatures)
    training.save_beside(model, directory, {"task": "forecasting", "features": shape[2],
                                            **{key: np.asarray(value).tolist() for key, value in scale.items()}})


def draw_forecasts(model, batch, shape, scale, path):
    """A PNG of the first eval series: observations, targets, the forecast mean and, for a model
    with ``sample_trajectories``, the posterior's 5-95 % band, in the data's units."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    length, queries, features = shape
    inputs = _model_inputs(batch, length, features)
    raw = lambda values: scaling.unscale_values(np.asarray(values), scale[VALUE_MEAN], scale[VALUE_STD])  # noqa: E731
    origin = batch[TIME_ORIGIN].numpy()
    in_time = lambda times: np.asarray(times) * scale[TIME_SCALE] + origin  # noqa: E731
    mean = raw(model(inputs, training=False))
    band = None
    if hasattr(model, "sample_trajectories"):
        samples = raw(model.sample_trajectories(inputs, PICTURE_SAMPLES, seed=(0, 0)))
        band = np.percentile(samples, [5, 95], axis=0)
    times, query_times = in_time(inputs[TIMES]), in_time(inputs[QUERY_TIMES])
    values, mask = raw(inputs[VALUES]), inputs[MASK].numpy()
    targets = raw(tf.reshape(batch[TARGETS], (-1, queries, features)))
    rows = len(mean)
    figure, axes = plt.subplots(rows, 1, figsize=(8, 2.4 * rows), squeeze=False)
    for row, axis in enumerate(axes[:, 0]):
        order = np.argsort(query_times[row], kind="stable")
        for feature in range(min(features, 3)):
            color = f"C{feature}"
            seen = mask[row, :, feature] > 0
            axis.plot(times[row][seen], values[row, seen, feature], ".", color=color, label="observed" if not feature else None)
            axis.plot(query_times[row][order], targets[row, order, feature], "x", color=color, markersize=3,
                      label="target" if not feature else None)
            axis.plot(query_times[row][order], mean[row, order, feature], "-", color=color,
                      label="forecast" if not feature else None)
            if band is not None:
                axis.fill_between(query_times[row][order], band[0, row, order, feature], band[1, row, order, feature],
                                  color=color, alpha=0.2, label="5-95 %" if not feature else None)
        axis.set_ylabel(f"series {row}")
    axes[0, 0].legend(loc="best", fontsize="small")
    axes[-1, 0].set_xlabel("time")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)

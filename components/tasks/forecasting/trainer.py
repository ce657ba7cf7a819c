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
SavedModel as constants; a model fine-tuned from a base model keeps the base model's scaling
(a pushed model's, recorded in ``odezoo.json``; a preset's, the data's own units), its inputs
rescaled into it. ``model.keras`` lies beside it, for fine-tuning, and ``forecasts.png``,
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
from components.tasks.forecasting.features import (MASK, QUERY_TIMES, TARGETS, TIME_ORIGIN, TIMES, VALUE_MEAN,  # noqa: E402
                                                   VALUES)

PICTURE_FILE = "forecasts.png"
PICTURE_SERIES = 4
PICTURE_SAMPLES = 32


def _model_inputs(batch, length, features):
    series = lambda key: tf.reshape(batch[key], (-1, length, features))  # noqa: E731
    return {TIMES: batch[TIMES], VALUES: series(VALUES), MASK: series(MASK), QUERY_TIMES: batch[QUERY_TIMES]}


def _dataset(file_pattern, transform_output, batch_size, shape, shuffle, data_scale, model_scale):
    """Transform's series as (inputs, targets) in the model's scaling."""
    length, queries, features = shape
    batches = training.transformed_features(file_pattern, transform_output, batch_size, shuffle)
    return batches.map(lambda batch: scaling.rescale(_model_inputs(batch, length, features), data_scale, model_scale,
                                                     tf.reshape(batch[TARGETS], (-1, queries, features))))


def build_model(config, features):
    model_class = zoo.models.family(config["model"]).MODEL
    return model_class(features=features, **dict(config.get("model_options", {})))


def _base_model_and_scale(path, features):
    """The base model and the scaling it was trained in: a pushed model's, from its
    MODEL_INFO_FILE; a preset's, the data's own units."""
    model = training.load_base_model(path)
    taken = model.input[VALUES].shape[-1]
    if taken != features:
        raise ValueError(f"Trainer: the base model {path!r} takes series of {taken} feature(s), but the data's have "
                         f"{features}; fine-tune it on data of the same features or train from scratch.")
    info = training.base_model_info(path)
    if VALUE_MEAN not in info:
        return model, scaling.identity_scale(features)
    return model, scaling.Scale(*(np.asarray(info[key], np.float32) for key in scaling.Scale._fields))


def _scale_of(batch):
    return scaling.Scale(*(batch[key][0].numpy() for key in scaling.Scale._fields))


def run_fn(fn_args):
    config = dict(fn_args.custom_config or {})
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    spec = transform_output.transformed_feature_spec()
    shape = (spec[TIMES].shape[-1], spec[QUERY_TIMES].shape[-1], spec[VALUE_MEAN].shape[-1])
    data_scale = _scale_of(next(iter(training.transformed_features(fn_args.train_files, transform_output, 1,
                                                                   shuffle=False))))
    keras.utils.set_random_seed(int(config.get("seed", 0)))
    strategy = training.distribution_strategy()
    with strategy.scope():
        if fn_args.base_model:
            model, model_scale = _base_model_and_scale(fn_args.base_model, shape[2])
        else:
            model, model_scale = build_model(config, shape[2]), data_scale
        model.compile(optimizer=keras.optimizers.Adam(float(config["learning_rate"])))
    read = lambda files, batch_size, shuffle: _dataset(files, transform_output, batch_size, shape, shuffle,  # noqa: E731
                                                       data_scale, model_scale)
    model.fit(read(fn_args.train_files, int(config["batch_size"]), True), epochs=int(config["epochs"]),
              validation_data=read(fn_args.eval_files, 256, False), verbose=2,
              callbacks=[keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)])
    export(model, fn_args.serving_model_dir, data_scale, model_scale, shape, spec)
    eval_batch = next(iter(training.transformed_features(fn_args.eval_files, transform_output, PICTURE_SERIES,
                                                         shuffle=False)))
    draw_forecasts(model, eval_batch, shape, data_scale, model_scale,
                   os.path.join(fn_args.serving_model_dir, PICTURE_FILE))


def serving_signatures(model, data_scale, model_scale, shape, transformed_spec):
    """The signatures of the module docstring, around ``model`` (trained in ``model_scale``) and
    the scaling of the data Transform wrote (``data_scale``) in the features of ``transformed_spec``."""
    length, queries, features = shape
    data_scale, model_scale = (scaling.Scale(*(tf.constant(value, tf.float32) for value in scale))
                               for scale in (data_scale, model_scale))

    @tf.function(input_signature=zoo.export.series_input_specs(features))
    def serve_series(times, values, mask, query_times):
        inputs = scaling.scale({TIMES: times, VALUES: values, MASK: mask, QUERY_TIMES: query_times}, *model_scale)
        mean = model(inputs, training=False)
        return {"mean": scaling.unscale_values(mean, model_scale.value_mean, model_scale.value_std)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        return serve_series(**zoo.export.parse_series_examples(serialized, features))

    transformed_spec = {key: transformed_spec[key] for key in zoo.export.SERIES_FEATURES}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_transformed(serialized):
        batch = tf.io.parse_example(serialized, transformed_spec)
        raw_mean = serve_series(**scaling.unscale(_model_inputs(batch, length, features), *data_scale))["mean"]
        mean = (raw_mean - data_scale.value_mean) / data_scale.value_std
        return {"mean": tf.reshape(mean, (-1, queries * features))}

    return {"serve_examples": serve_examples, "serve_series": serve_series, EVAL_SIGNATURE: serve_transformed}


def export(model, directory, data_scale, model_scale, shape, transformed_spec):
    module = zoo.export.serving_module(model)
    signatures = serving_signatures(model, data_scale, model_scale, shape, transformed_spec)
    for name, function in signatures.items():
        setattr(module, name, function)
    signatures["serving_default"] = signatures["serve_examples"]
    tf.saved_model.save(module, directory, signatures=signatures)
    training.save_beside(model, directory, {"task": "forecasting", "features": shape[2],
                                            **{key: np.asarray(value).tolist()
                                               for key, value in model_scale._asdict().items()}})


def draw_forecasts(model, batch, shape, data_scale, model_scale, path):
    """A PNG of the first eval series: observations, targets, the forecast mean and, for a model
    with ``sample_trajectories``, the posterior's 5-95 % band, in the data's units."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    length, queries, features = shape
    scaled = _model_inputs(batch, length, features)
    inputs = scaling.rescale(scaled, data_scale, model_scale)
    raw = lambda values, scale: scaling.unscale_values(np.asarray(values), scale.value_mean,  # noqa: E731
                                                      scale.value_std)
    origin = batch[TIME_ORIGIN].numpy()
    in_time = lambda times: np.asarray(times) * data_scale.time_scale + origin  # noqa: E731
    mean = raw(model(inputs, training=False), model_scale)
    band = None
    if hasattr(model, "sample_trajectories"):
        samples = raw(model.sample_trajectories(inputs, PICTURE_SAMPLES, seed=(0, 0)), model_scale)
        band = np.percentile(samples, [5, 95], axis=0)
    times, query_times = in_time(scaled[TIMES]), in_time(scaled[QUERY_TIMES])
    values, mask = raw(scaled[VALUES], data_scale), scaled[MASK].numpy()
    targets = raw(tf.reshape(batch[TARGETS], (-1, queries, features)), data_scale)
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

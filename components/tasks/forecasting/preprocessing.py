"""Transform's module code: ``components.tasks.forecasting.preprocessing.preprocessing_fn``.

Inputs: the raw series (``features``), fixed lengths T and Q within the data (the CSV reader pads,
the data checks require it of TFRecords). Outputs: the same features scaled (``scaling.scale``)
with the scaling learned by tft analyzers over the training split, and that scaling in every
example (``value_mean``, ``value_std``, ``time_scale``) with the series' ``time_origin``, so the
Trainer can build a serving signature that takes and returns the data's units.
"""

import tensorflow as tf
import tensorflow_transform as tft

from components.tasks.forecasting import scaling
from components.tasks.forecasting.features import (MASK, QUERY_TIMES, TARGETS, TIME_ORIGIN, TIME_SCALE, TIMES, VALUE_MEAN,
                                                   VALUE_STD, VALUES)


def _positive_or_one(scale):
    # A constant feature (or series of one time) has no spread to divide by; dividing by 1 keeps it finite.
    return tf.where(scale > 0, scale, tf.ones_like(scale))


def preprocessing_fn(inputs, custom_config):
    del custom_config
    times = tf.cast(inputs[TIMES], tf.float32)
    query_times = tf.cast(inputs[QUERY_TIMES], tf.float32)
    length, queries = times.shape[-1], query_times.shape[-1]
    features = inputs[VALUES].shape[-1] // length
    as_series = lambda flat, steps: tf.reshape(tf.cast(flat, tf.float32), [-1, steps, features])  # noqa: E731
    series = {TIMES: times, VALUES: as_series(inputs[VALUES], length), MASK: as_series(inputs[MASK], length),
              QUERY_TIMES: query_times}
    targets = as_series(inputs[TARGETS], queries)
    observed = series[MASK] > 0
    means, stds = [], []
    for feature in range(features):
        values = tf.boolean_mask(series[VALUES][..., feature], observed[..., feature])
        means.append(tft.mean(values))
        stds.append(tf.sqrt(tft.var(values)))
    value_mean, value_std = tf.stack(means), _positive_or_one(tf.stack(stds))
    origin = scaling.time_origin(times)
    span = tf.maximum(tf.reduce_max(times, axis=1), tf.reduce_max(query_times, axis=1)) - origin[:, 0]
    time_scale = _positive_or_one(tft.mean(span))
    scaled, scaled_targets = scaling.scale(series, value_mean, value_std, time_scale, targets)
    rows = tf.zeros_like(origin)  # (B, 1), to give each example the learned constants
    flat = lambda array, steps: tf.reshape(array, [-1, steps * features])  # noqa: E731
    return {TIMES: scaled[TIMES], VALUES: flat(scaled[VALUES], length), MASK: flat(scaled[MASK], length),
            QUERY_TIMES: scaled[QUERY_TIMES], TARGETS: flat(scaled_targets, queries),
            VALUE_MEAN: rows + value_mean, VALUE_STD: rows + value_std, TIME_SCALE: rows + time_scale,
            TIME_ORIGIN: origin}

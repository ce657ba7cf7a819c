"""The scaling Transform learns and the served model undoes, in one place: each series' times
start at 0 and are divided by ``time_scale`` (the training series' mean span, so a series spans
about 1 whatever its units); values are standardized per feature by the training values' mean and
standard deviation (observed values only). Transform's ``preprocessing_fn`` and the serving
signature both call ``scale``, so training and serving cannot drift apart."""

import tensorflow as tf


def time_origin(times):
    """Each series' first time, (B, 1)."""
    return times[:, :1]


def scale(inputs, value_mean, value_std, time_scale, targets=None):
    """The model's input dict (``times`` (B, T), ``values`` and ``mask`` (B, T, D), ``query_times``
    (B, Q)) scaled, and ``targets`` (B, Q, D) with it when given."""
    origin = time_origin(inputs["times"])
    observed = inputs["mask"] > 0
    scaled = {"times": (inputs["times"] - origin) / time_scale,
              "query_times": (inputs["query_times"] - origin) / time_scale,
              "values": tf.where(observed, (inputs["values"] - value_mean) / value_std, 0.0),
              "mask": tf.cast(observed, tf.float32)}
    if targets is None:
        return scaled
    return scaled, (targets - value_mean) / value_std


def unscale_values(values, value_mean, value_std):
    """Scaled values (..., D) back in the data's units."""
    return values * value_std + value_mean

"""The scaling Transform learns and the served model undoes, in one place: each series' times
start at 0 and are divided by ``time_scale`` (the training series' mean span, so a series spans
about 1 whatever its units); values are standardized per feature by the training values' mean and
standard deviation (observed values only). Transform's ``preprocessing_fn`` and the serving
signature both call ``scale``, so training and serving cannot drift apart.

A model keeps the scaling it was first trained in (``Scale``): fine-tuned on new data, it reads
Transform's examples through ``rescale`` from the new data's scaling into its own.
"""

import collections

import tensorflow as tf

Scale = collections.namedtuple("Scale", ["value_mean", "value_std", "time_scale"])


def identity_scale(features):
    """The scaling of a model trained on the data's own units (the presets)."""
    return Scale([0.0] * features, [1.0] * features, [1.0])


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


def unscale(inputs, value_mean, value_std, time_scale):
    """``scale``'s inverse for scaled inputs, up to each series' time origin (the models are
    autonomous in time, so only time differences matter)."""
    observed = inputs["mask"] > 0
    return {"times": inputs["times"] * time_scale, "query_times": inputs["query_times"] * time_scale,
            "values": tf.where(observed, unscale_values(inputs["values"], value_mean, value_std), 0.0),
            "mask": inputs["mask"]}


def rescale(inputs, source, target, targets=None):
    """Inputs (and ``targets`` when given) scaled by the ``Scale`` ``source`` as ``scale`` scales
    them by ``target``."""
    raw_targets = None if targets is None else unscale_values(targets, source.value_mean, source.value_std)
    return scale(unscale(inputs, *source), *target, raw_targets)

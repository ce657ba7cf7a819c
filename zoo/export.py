"""Exporting a zoo model as a SavedModel that serves without odezoo installed.

Image classifiers get two signatures: ``serve_images`` takes images ([batch, height, width,
channels] float32 in [0, 1]) and ``serve_examples`` takes serialized ``tf.Example``s
(``examples``) whose float feature ``image`` holds the height * width * channels pixel values,
row-major (the form a TFX pipeline feeds). Both return ``logits``, ``probabilities`` and ``classes``
(int32). ``serving_default`` is one of them: images by default, examples for a model that TFX's
Evaluator scores.

Series models (the latent ODE's input dict) get ``serve_series`` (``times`` (B, T), ``values`` and
``mask`` (B, T, D), ``query_times`` (B, Q)) and ``serve_examples``, whose tf.Examples hold the float
lists ``times`` (T), ``values`` and ``mask`` (T * D, row-major) and ``query_times`` (Q); a batch of
series of different lengths is padded as the model's contract allows (mask 0, times and query times
repeating the row's last). Both return ``mean`` (B, Q, D).
"""

import math

import numpy as np
import tensorflow as tf

IMAGE_FEATURE = "image"


def serving_module(model):
    """A tf.Module holding ``model`` and its layers' metric variables (the ODE block's NFE counters
    update when called, so a SavedModel must hold them too)."""
    module = tf.Module()
    module.model = model
    module.metric_variables = [variable for metric in model.metrics for variable in metric.variables]
    return module


SIGNATURES = ("images", "examples")
SERIES_SIGNATURES = ("series", "examples")
SERIES_FEATURES = ("times", "values", "mask", "query_times")


def export_saved_model(model, directory, default_signature=None):
    """Writes ``model`` to ``directory`` as a SavedModel whose ``serving_default`` is
    ``serve_images`` (a Keras image classifier) or ``serve_series`` (a series model), or, with
    ``default_signature="examples"``, ``serve_examples``; returns the path."""
    series = isinstance(model.input, dict)
    choices = SERIES_SIGNATURES if series else SIGNATURES
    default_signature = default_signature or choices[0]
    if default_signature not in choices:
        raise ValueError(f"export_saved_model: default_signature must be one of {choices}, "
                         f"got {default_signature!r}.")
    module = serving_module(model)
    signatures = series_signatures(model) if series else image_signatures(model)
    for name, function in signatures.items():
        setattr(module, name, function)
    signatures["serving_default"] = signatures[f"serve_{default_signature}"]
    tf.saved_model.save(module, str(directory), signatures=signatures)
    return str(directory)


def image_signatures(model):
    shape = tuple(model.input_shape[1:])
    if None in shape:
        raise ValueError(f"export_saved_model: the model's input shape {shape} must be fully known.")

    @tf.function(input_signature=[tf.TensorSpec((None,) + shape, tf.float32, name="images")])
    def serve_images(images):
        logits = model(images, training=False)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits),
                "classes": tf.argmax(logits, axis=-1, output_type=tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        spec = {IMAGE_FEATURE: tf.io.FixedLenFeature([math.prod(shape)], tf.float32)}
        features = tf.io.parse_example(serialized, spec)
        return serve_images(tf.reshape(features[IMAGE_FEATURE], (-1,) + shape))

    return {"serve_images": serve_images, "serve_examples": serve_examples}


def series_input_specs(features):
    """The TensorSpecs of a series model's inputs, in SERIES_FEATURES order, for ``features`` (D)."""
    return [tf.TensorSpec([None, None, features] if key in ("values", "mask") else [None, None], tf.float32, name=key)
            for key in SERIES_FEATURES]


def series_signatures(model):
    features = model.input["values"].shape[-1]
    if features is None:
        raise ValueError("export_saved_model: the model's number of features (values' last axis) must be known.")

    @tf.function(input_signature=series_input_specs(features))
    def serve_series(times, values, mask, query_times):
        inputs = {"times": times, "values": values, "mask": mask, "query_times": query_times}
        return {"mean": model(inputs, training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        return serve_series(**parse_series_examples(serialized, features))

    return {"serve_series": serve_series, "serve_examples": serve_examples}


def _padded_with_last(ragged, name):
    """A (B, None) ragged tensor as a dense one whose short rows repeat their last value."""
    lengths = ragged.row_lengths()
    check = tf.debugging.assert_positive(lengths, message=f"serve_examples: every example needs at least one "
                                                          f"value in {name}.")
    with tf.control_dependencies([check]):
        last = tf.gather(ragged.flat_values, ragged.row_limits() - 1)
    dense = ragged.to_tensor(default_value=0.0)
    inside = tf.sequence_mask(lengths, tf.shape(dense)[1])
    return tf.where(inside, dense, last[:, None])


def parse_series_examples(serialized, features):
    """The model's input dict from serialized series tf.Examples (``series_example``'s form), with
    clear errors for a missing feature or values/mask whose length is not len(times) * features."""
    spec = {key: tf.io.RaggedFeature(tf.float32) for key in SERIES_FEATURES}
    parsed = tf.io.parse_example(serialized, spec)
    lengths = parsed["times"].row_lengths()
    inputs = {"times": _padded_with_last(parsed["times"], "times"),
              "query_times": _padded_with_last(parsed["query_times"], "query_times")}
    for key in ("values", "mask"):
        check = tf.debugging.assert_equal(
            parsed[key].row_lengths(), lengths * features,
            message=f"serve_examples: {key} must hold len(times) * {features} floats (row-major, one row per time).")
        with tf.control_dependencies([check]):
            rows = tf.RaggedTensor.from_row_lengths(tf.reshape(parsed[key].flat_values, [-1, features]), lengths)
        inputs[key] = rows.to_tensor(default_value=0.0)
    return inputs


def image_example(image, label=None, label_feature="label"):
    """A serialized ``tf.Example`` for ``serve_examples`` from one image array, with an int64
    ``label_feature`` when ``label`` is given (the form of a pipeline's training examples)."""
    values = np.asarray(image, np.float32).ravel()
    feature = {IMAGE_FEATURE: tf.train.Feature(float_list=tf.train.FloatList(value=values))}
    if label is not None:
        feature[label_feature] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def series_example(times, values, mask=None, query_times=(), targets=None):
    """A serialized series ``tf.Example`` for ``serve_examples``: ``times`` (T), ``values`` and
    ``mask`` (T, D; mask 1 where observed, all ones by default), ``query_times`` (Q) and, for
    training examples, ``targets`` (Q, D)."""
    values = np.asarray(values, np.float32)
    arrays = {"times": times, "values": values, "mask": np.ones_like(values) if mask is None else mask,
              "query_times": query_times}
    if targets is not None:
        arrays["targets"] = targets
    feature = {key: tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(array, np.float32).ravel()))
               for key, array in arrays.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

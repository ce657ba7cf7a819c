"""Exporting a classifier as a SavedModel that serves without odezoo installed.

Two signatures: ``serve_images`` takes images ([batch, height, width, channels] float32 in [0, 1])
and ``serve_examples`` takes serialized ``tf.Example``s (``examples``) whose float feature ``image``
holds the height * width * channels pixel values, row-major (the form a TFX pipeline feeds). Both
return ``logits``, ``probabilities`` and ``classes`` (int32). ``serving_default`` is one of them:
images by default, examples for a model that TFX's Evaluator scores.
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


def export_saved_model(model, directory, default_signature="images"):
    """Writes ``model`` (a Keras image classifier) to ``directory`` as a SavedModel whose
    ``serving_default`` is ``serve_images`` or, with ``default_signature="examples"``,
    ``serve_examples``; returns the path."""
    if default_signature not in SIGNATURES:
        raise ValueError(f"export_saved_model: default_signature must be one of {SIGNATURES}, "
                         f"got {default_signature!r}.")
    shape = tuple(model.input_shape[1:])
    if None in shape:
        raise ValueError(f"export_saved_model: the model's input shape {shape} must be fully known.")
    module = serving_module(model)

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

    module.serve_images, module.serve_examples = serve_images, serve_examples
    signatures = {"serve_images": serve_images, "serve_examples": serve_examples}
    signatures["serving_default"] = signatures[f"serve_{default_signature}"]
    tf.saved_model.save(module, str(directory), signatures=signatures)
    return str(directory)


def image_example(image, label=None, label_feature="label"):
    """A serialized ``tf.Example`` for ``serve_examples`` from one image array, with an int64
    ``label_feature`` when ``label`` is given (the form of a pipeline's training examples)."""
    values = np.asarray(image, np.float32).ravel()
    feature = {IMAGE_FEATURE: tf.train.Feature(float_list=tf.train.FloatList(value=values))}
    if label is not None:
        feature[label_feature] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

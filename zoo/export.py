"""Exporting a classifier as a SavedModel that serves without odezoo installed.

Two signatures: ``serving_default`` takes images ([batch, height, width, channels] float32 in [0, 1])
and ``serve_examples`` takes serialized ``tf.Example``s whose float feature ``image`` holds the
height * width * channels pixel values, row-major (the form a TFX pipeline feeds). Both return
``logits``, ``probabilities`` and ``classes``.
"""

import math

import tensorflow as tf

IMAGE_FEATURE = "image"


def serving_module(model):
    """A tf.Module holding ``model`` and its layers' metric variables (the ODE block's NFE counters
    update when called, so a SavedModel must hold them too)."""
    module = tf.Module()
    module.model = model
    module.metric_variables = [variable for metric in model.metrics for variable in metric.variables]
    return module


def export_saved_model(model, directory):
    """Writes ``model`` (a Keras image classifier) to ``directory`` as a SavedModel; returns the path."""
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
    tf.saved_model.save(module, str(directory),
                        signatures={"serving_default": serve_images, "serve_examples": serve_examples})
    return str(directory)


def image_example(image):
    """A serialized ``tf.Example`` for ``serve_examples`` from one image array."""
    values = tf.reshape(tf.cast(image, tf.float32), [-1]).numpy().tolist()
    feature = {IMAGE_FEATURE: tf.train.Feature(float_list=tf.train.FloatList(value=values))}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

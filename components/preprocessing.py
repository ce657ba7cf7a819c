"""Transform's module code: ``components.preprocessing.preprocessing_fn`` (a dotted path, so that
the Kubeflow image runs the installed package and nothing is uploaded at compile time).

Inputs are either ``image`` (a fixed-length float list, as ZooExampleGen writes) or one numeric
column per pixel (a CSV), plus ``label``. Outputs: ``image`` (pixels clipped to [0, 1]) and
``label`` (int64).
"""

import tensorflow as tf

LABEL = "label"
IMAGE = "image"


def pixel_columns(names):
    """The CSV pixel columns in order: every column but the label, sorted by the number in its name."""
    def order(name):
        digits = "".join(ch for ch in name if ch.isdigit())
        return (int(digits) if digits else -1, name)

    return sorted((n for n in names if n != LABEL), key=order)


def preprocessing_fn(inputs):
    if IMAGE in inputs:
        image = tf.cast(inputs[IMAGE], tf.float32)
    else:
        image = tf.concat([tf.reshape(tf.cast(inputs[name], tf.float32), [-1, 1])
                           for name in pixel_columns(inputs)], axis=1)
    return {IMAGE: tf.clip_by_value(image, 0.0, 1.0), LABEL: tf.reshape(tf.cast(inputs[LABEL], tf.int64), [-1])}

"""Transform's module code: ``components.tasks.classification.preprocessing.preprocessing_fn`` (a dotted path, so that
the Kubeflow image runs the installed package and nothing is uploaded at compile time).

Inputs are either ``image`` (a fixed-length list of pixels, as ZooExampleGen writes) or one numeric
column per pixel (a CSV, integer columns included), plus ``label``. Outputs: ``image`` (float32
pixels divided by ``custom_config["pixel_max"]``, which must put them in [0, 1]) and ``label`` (int64).
"""

import tensorflow as tf

from components.tasks.classification.features import IMAGE, LABEL, pixel_columns


def preprocessing_fn(inputs, custom_config):
    if IMAGE in inputs:
        image = tf.cast(inputs[IMAGE], tf.float32)
    else:
        image = tf.concat([tf.reshape(tf.cast(inputs[name], tf.float32), [-1, 1])
                           for name in pixel_columns(inputs)], axis=1)
    pixel_max = float(custom_config["pixel_max"])
    image = image / pixel_max
    # The command line checks CSV values before the run; this catches the sources it cannot read
    # whole (TFRecords), which would otherwise train on pixels out of the range the model expects.
    message = f"pixels divided by --pixel-max {pixel_max:g} must lie in [0, 1]"
    checks = [tf.debugging.assert_greater_equal(image, 0.0, message=message),
              tf.debugging.assert_less_equal(image, 1.0, message=message)]
    with tf.control_dependencies(checks):
        image = tf.identity(image)
    return {IMAGE: image, LABEL: tf.reshape(tf.cast(inputs[LABEL], tf.int64), [-1])}

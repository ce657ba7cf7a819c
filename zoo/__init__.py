"""odezoo: neural ODEs for TensorFlow and Keras 3."""

import os

# TensorFlow Transform flips tf.keras to Keras 2 unless this is set before TensorFlow is imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

from zoo.version import __version__  # noqa: E402

__all__ = ["__version__"]

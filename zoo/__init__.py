"""odezoo: neural ODEs for TensorFlow and Keras 3.

    import zoo
    model = zoo.ODENetClassifier.from_preset("odenet_digits")
    train = zoo.datasets.digits("train", batch_size=64)
"""

import os

# TensorFlow Transform flips tf.keras to Keras 2 unless this is set before TensorFlow is imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

from zoo import datasets, layers, presets  # noqa: E402  (registers the Keras serializables)
from zoo.export import export_saved_model  # noqa: E402
from zoo import models  # noqa: E402
from zoo.layers import ConcatConv2D, ConcatDense, ConcatSquashDense, ODEBlock  # noqa: E402
from zoo.models.cnf import CNF  # noqa: E402
from zoo.models.latent_ode import LatentODE  # noqa: E402
from zoo.models.ode_rnn import ODERNNForecaster, RNNForecaster  # noqa: E402
from zoo.models.odenet import ConvODEDynamics, ODENetClassifier  # noqa: E402
from zoo.version import __version__  # noqa: E402

__all__ = ["__version__", "CNF", "ODEBlock", "ConcatConv2D", "ConcatDense", "ConcatSquashDense", "ConvODEDynamics", "LatentODE",
           "ODENetClassifier", "ODERNNForecaster", "RNNForecaster", "datasets", "layers", "models", "presets",
           "export_saved_model"]

"""The ODE-Net image classifier of Chen et al. (2018): the model, its vector field and its presets."""

from zoo.models.odenet.classifier import (FROM_SCRATCH_LEARNING_RATE, HEAD, MIN_FEATURE_SIZE, PAPER_MIN_FEATURE_SIZE,
                                          ODENetClassifier)
from zoo.models.odenet.dynamics import ConvODEDynamics
from zoo.models.odenet.presets import PRESETS

MODEL = ODENetClassifier

__all__ = ["ConvODEDynamics", "FROM_SCRATCH_LEARNING_RATE", "HEAD", "MIN_FEATURE_SIZE", "MODEL",
           "ODENetClassifier", "PAPER_MIN_FEATURE_SIZE", "PRESETS"]

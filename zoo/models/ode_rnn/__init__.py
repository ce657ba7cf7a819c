"""Rubanova et al.'s ODE-RNN as a forecaster, and its RNN-Delta-t ablation: the baselines to compare
the latent ODE with."""

from zoo.models.ode_rnn.model import ODERNNForecaster, RNNForecaster
from zoo.models.ode_rnn.presets import PRESETS

MODEL = ODERNNForecaster

__all__ = ["MODEL", "ODERNNForecaster", "PRESETS", "RNNForecaster"]

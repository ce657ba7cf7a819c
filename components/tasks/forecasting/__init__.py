"""Forecasting, the task of the series models (the latent ODE, the ODE-RNN forecaster): irregularly
sampled series with missing values, from the embedded spirals, periodic toy data and Mauna Loa CO2,
a long-format CSV or TFRecord files; the model predicts the values at query times (forecasting
or interpolation), is served as ``mean`` in the data's units and is blessed on the eval forecast
MSE. The constants are the task's defaults (``components.tasks.settings``)."""

DEFAULT_DATA = "spirals"
EMBEDDED_DATA = ("spirals", "periodic", "co2")
ZOO_SOURCES = EMBEDDED_DATA + ("csv",)
EPOCHS = 30
BATCH_SIZE = 50
MODEL_OPTIONS = {"latent_ode": {}, "ode_rnn": {}}
# A csv: series' last HORIZON points are its queries unless --horizon says otherwise.
HORIZON = 10

LEARNING_RATE = 1e-2  # the latent_ode_spirals preset's (Adam, tools/train_presets.py)
FINE_TUNING_LEARNING_RATE = 1e-3
FROZEN_BODY_EPOCHS = 0

METRIC_NAME = "eval forecast MSE (in units of the training values' variance)"
THRESHOLD_OPTION = "--mse-threshold"
# Transform standardizes the values, so an MSE of 1 is what predicting the training mean scores: a
# model must explain at least half the variance at the query times.
THRESHOLD = 0.5
# A model may score this much worse than the blessed baseline before it is refused.
TOLERANCE = 0.02


def check_threshold(threshold):
    if not threshold > 0:
        raise ValueError(f"{THRESHOLD_OPTION} must be positive (an MSE), got {threshold}.")

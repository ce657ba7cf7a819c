"""Recurrent forecasters, the baselines beside the latent ODE (Rubanova et al.'s Table 2 and Chen
et al.'s Fig. 8 compare with them).

``ODERNNForecaster``: the ODE-RNN reads the observed points forwards in time; its state after the
last observation follows the same hidden ODE on to each query time, where a dense decoder reads the
prediction. ``RNNForecaster``: the same without an ODE, Rubanova et al.'s RNN-Delta-t (Chen et
al.'s RNN baseline, which takes the time stamps as input): a GRU over [x * m, m, gap] at each
observation, then over [0, 0, gap] at each query time.
"""

import keras
import tensorflow as tf

from zoo.layers.ode_rnn import EARLY_FORECAST, ODERNN, last_observed_times, mlp_dynamics, observed_times
from zoo.models.configured import ConfiguredModel
from zoo.models.latent_ode.model import INPUT_KEYS, LEARNING_RATE, MSE_METRIC, series_inputs


class Forecaster(ConfiguredModel):
    """What the forecasters share: ``compile()``, whose ``"auto"`` means Adam at LEARNING_RATE and the
    mean squared error, as loss and as the ``mse`` metric (XLA off, as for the latent ODE)."""

    SHAPE_KEYS = ("features", "units", "hidden_units")

    def compile(self, optimizer="auto", loss="auto", metrics="auto", jit_compile=False, **kwargs):
        super().compile(optimizer=keras.optimizers.Adam(LEARNING_RATE) if optimizer == "auto" else optimizer,
                        loss="mse" if loss == "auto" else loss,
                        metrics=[keras.metrics.MeanSquaredError(name=MSE_METRIC)] if metrics == "auto" else metrics,
                        jit_compile=jit_compile, **kwargs)
        self.optimizer.build(self.trainable_variables)


@keras.saving.register_keras_serializable(package="odezoo")
class ODERNNForecaster(Forecaster):
    """Predicts a series' values at query times after its last observation.

    Inputs: the latent ODE's dict (``times``, ``values``, ``mask``, ``query_times``; see
    ``zoo.LatentODE``), with every query time at or after its row's last observed time.
    ``model(inputs)`` returns the prediction at the query times, (B, Q, D). ``compile()`` defaults to
    Adam at the latent ODE's learning rate and the mean squared error.

    Args:
      features: D, the values' last axis.
      units: the ODE-RNN's hidden state; hidden_units: the decoder's dense layers.
      method, step_size, rtol, atol, gradient: the ODE-RNN's solver between observations
        (``zoo.layers.ODERNN``; one Euler step per gap by default).
      forecast_solver: ``odeint``'s options from the last observation on (dopri5 by default).
    """

    def __init__(self, features=2, units=25, hidden_units=(20,), method="euler", step_size=1.0, rtol=1e-3,
                 atol=1e-4, gradient="direct", forecast_solver=None, **kwargs):
        inputs = series_inputs(features)
        ode_rnn = ODERNN(units, method=method, step_size=step_size, rtol=rtol, atol=atol, gradient=gradient,
                         forecast_solver=forecast_solver, name="ode_rnn")
        outputs = mlp_dynamics(features, hidden_units, "relu", name="decoder")(ode_rnn(inputs))
        super().__init__(inputs, outputs, **kwargs)
        self.architecture = dict(features=features, units=units, hidden_units=list(hidden_units), method=method,
                                 step_size=step_size, rtol=rtol, atol=atol, gradient=gradient,
                                 forecast_solver=ode_rnn.forecast_solver)





@keras.saving.register_keras_serializable(package="odezoo")
class TimeGapSteps(keras.layers.Layer):
    """The steps of an RNN-Delta-t forecast: [x * m, m, gap] at each time, then [0, 0, gap] at each
    query time, gaps from the last observed time before; and which steps the RNN reads (observed
    ones and every query)."""

    def call(self, inputs):
        values = inputs["values"]
        mask = tf.cast(inputs["mask"], values.dtype)
        times = observed_times(tf.cast(inputs["times"], values.dtype), mask)
        query_times = tf.cast(inputs["query_times"], values.dtype)
        check = tf.debugging.assert_greater_equal(query_times, last_observed_times(times, mask)[:, None],
                                                  message=f"RNNForecaster: {EARLY_FORECAST}")
        with tf.control_dependencies([check]):
            everything = tf.concat([times, query_times], axis=1)
        gaps = everything - tf.concat([times[:, :1], everything[:, :-1]], axis=1)
        unobserved = tf.zeros(tf.concat([tf.shape(query_times), tf.shape(values)[2:]], 0), values.dtype)
        steps = tf.concat([tf.concat([values * mask, unobserved], axis=1), tf.concat([mask, unobserved], axis=1),
                           gaps[..., None]], axis=-1)
        read = tf.concat([tf.reduce_any(mask > 0, axis=-1), tf.ones_like(query_times, tf.bool)], axis=1)
        return steps, read


@keras.saving.register_keras_serializable(package="odezoo")
class QuerySteps(keras.layers.Layer):
    """The RNN's outputs at the query steps (the last Q); every query step is read, so the RNN's
    mask ends here."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, outputs, query_times):
        return outputs[:, -tf.shape(query_times)[1]:]


@keras.saving.register_keras_serializable(package="odezoo")
class RNNForecaster(Forecaster):
    """Rubanova et al.'s RNN-Delta-t forecaster: the ODE-RNN forecaster's inputs, outputs, decoder
    and ``compile()``, with a GRU that takes the gap since the previous step as an input instead of
    an ODE between observations (unobserved entries are skipped, so padding changes nothing).

    Args:
      features: D; units: the GRU's state; hidden_units: the decoder's dense layers.
    """

    def __init__(self, features=2, units=25, hidden_units=(20,), **kwargs):
        inputs = series_inputs(features)
        steps, read = TimeGapSteps(name="steps")(inputs)
        outputs = keras.layers.GRU(units, return_sequences=True, name="gru")(steps, mask=read)
        outputs = mlp_dynamics(features, hidden_units, "relu", name="decoder")(QuerySteps(name="query_steps")(outputs, inputs["query_times"]))
        super().__init__(inputs, outputs, **kwargs)
        self.architecture = dict(features=features, units=units, hidden_units=list(hidden_units))



__all__ = ["Forecaster", "INPUT_KEYS", "ODERNNForecaster", "RNNForecaster"]

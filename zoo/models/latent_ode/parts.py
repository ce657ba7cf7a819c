"""The latent ODE's parts: the encoder of q(z0), the latent trajectory at each row's query times,
and the Gaussian decoder with its learned observation noise."""

import math

import keras
import tensorflow as tf

from zoo.layers.ode_block import MeanPerBatch, check_solver_choices
from zoo.layers.ode_rnn import ODERNN, first_observed_times, mlp_dynamics, solve_at_offsets

ENCODERS = ("ode_rnn", "rnn")


def latent_start_times(times, mask, query_times):
    """Where each row's z0 sits: its first observed time, or its first query time when that comes
    before (the trajectory then reaches back before the observations)."""
    return tf.minimum(first_observed_times(times, mask), tf.reduce_min(query_times, axis=1))



@keras.saving.register_keras_serializable(package="odezoo")
class PosteriorEncoder(keras.layers.Layer):
    """q(z0 | series): a recognition network run from the last time to the first, then a dense map
    to the mean and the standard deviation (softplus) of a diagonal Gaussian over z0.

    ``encoder="ode_rnn"`` is Rubanova et al.'s ODE-RNN, whose state goes through a tanh layer of
    ``hidden_units`` (their ``transform_z0``); ``"rnn"`` the plain tanh RNN of Chen et al.'s spirals
    (``RecognitionRNN``), which sees the values and the mask but not the times, read out directly
    (their ``h2o``). Given ``query_times`` too, z0 sits at ``latent_start_times``: the ODE-RNN's
    state then follows its ODE on back from the first observation to a query before it, as their
    encoder runs back over every time of the batch."""

    def __init__(self, latent_dim, units=25, hidden_units=100, encoder="ode_rnn", **kwargs):
        super().__init__(**kwargs)
        if encoder not in ENCODERS:
            raise ValueError(f"LatentODE: unknown encoder {encoder!r}; choose one of {ENCODERS}.")
        self.latent_dim, self.units, self.hidden_units, self.encoder = latent_dim, units, hidden_units, encoder
        if encoder == "ode_rnn":
            self.recognition = ODERNN(units, go_backwards=True, name="ode_rnn")
        else:
            self.recognition = keras.layers.SimpleRNN(units, go_backwards=True, name="rnn")
        self.hidden = None
        if encoder == "ode_rnn":
            self.hidden = keras.layers.Dense(hidden_units, activation="tanh", name="hidden")
        self.posterior = keras.layers.Dense(2 * latent_dim, name="posterior")

    def build(self, input_shape):
        features = input_shape["values"][-1]
        if self.encoder == "ode_rnn":
            self.recognition.build(input_shape)
        else:
            self.recognition.build((None, None, 2 * features))
        if self.hidden is not None:
            self.hidden.build((None, self.units))
        self.posterior.build((None, self.units if self.hidden is None else self.hidden_units))

    def call(self, inputs):
        if self.encoder == "ode_rnn":
            series = {key: inputs[key] for key in ("times", "values", "mask")}
            h = self.recognition(series)
            if "query_times" in inputs:
                times, mask = tf.cast(inputs["times"], h.dtype), inputs["mask"]
                gap = latent_start_times(times, mask, tf.cast(inputs["query_times"], h.dtype)) - first_observed_times(
                    times, mask)
                h = self.recognition.cell.evolve(h, gap[:, None])
        else:
            mask = tf.cast(inputs["mask"], inputs["values"].dtype)
            steps = tf.concat([inputs["values"] * mask, mask], axis=-1)
            h = self.recognition(steps, mask=tf.reduce_any(mask > 0, axis=-1))
        mean, spread = tf.split(self.posterior(h if self.hidden is None else self.hidden(h)), 2, axis=-1)
        return mean, tf.math.softplus(spread) + 1e-6

    def get_config(self):
        return dict(super().get_config(), latent_dim=self.latent_dim, units=self.units,
                    hidden_units=self.hidden_units, encoder=self.encoder)


@keras.saving.register_keras_serializable(package="odezoo")
class LatentTrajectory(keras.layers.Layer):
    """z at each row's query times: dz/dt = f(z) from z0 at the row's ``latent_start_times``. The
    dynamics do not depend on t, so one solve over the union of the rows' offsets from their start
    times serves the batch (``solve_at_offsets``). Its solves' function evaluations are
    the metrics ``nfe_forward`` and, for the adjoint and checkpointed gradients, ``nfe_backward``
    (means per batch, as the ODE block reports them)."""

    def __init__(self, latent_dim, hidden_units=(20,), activation="elu", method="dopri5", rtol=1e-3, atol=1e-4,
                 gradient="direct", max_steps=10_000, **kwargs):
        super().__init__(**kwargs)
        check_solver_choices("LatentODE", method, gradient)
        self.latent_dim, self.hidden_units, self.activation = latent_dim, tuple(hidden_units), activation
        self.solver_options = dict(method=method, rtol=rtol, atol=atol, gradient=gradient, max_steps=max_steps)
        self.dynamics = mlp_dynamics(latent_dim, self.hidden_units, activation, name="latent_dynamics")
        self.nfe_forward = MeanPerBatch("nfe_forward")
        self.nfe_backward = MeanPerBatch("nfe_backward") if gradient != "direct" else None

    def build(self, input_shape):
        self.dynamics.build((None, self.latent_dim))

    def _field(self, t, z):
        return self.dynamics(z)

    def call(self, z0, times, mask, query_times):
        """z at ``query_times`` (B, Q) from z0 (B, L) at each row's start time."""
        offsets = query_times - latent_start_times(times, mask, query_times)[:, None]
        options = dict(self.solver_options)
        if self.nfe_backward is not None:
            options["backward_nfe"] = self.nfe_backward.total
        zs, stats = solve_at_offsets(self._field, z0, offsets, **options)
        self.nfe_forward.update_state(stats["nfe"])
        if self.nfe_backward is not None:
            self.nfe_backward.update_state()
        return zs

    def get_config(self):
        return dict(super().get_config(), latent_dim=self.latent_dim, hidden_units=list(self.hidden_units),
                    activation=self.activation, **self.solver_options)


@keras.saving.register_keras_serializable(package="odezoo")
class GaussianDecoder(keras.layers.Layer):
    """The mean of p(x | z) (dense layers) and its noise: one standard deviation per feature,
    learned (its logarithm is a weight) unless ``learn_noise`` is False."""

    def __init__(self, features, hidden_units=(20,), observation_noise=0.3, learn_noise=True, **kwargs):
        super().__init__(**kwargs)
        if not observation_noise > 0:
            raise ValueError(f"LatentODE: observation_noise must be positive, got {observation_noise!r}.")
        self.features, self.hidden_units = features, tuple(hidden_units)
        self.observation_noise, self.learn_noise = float(observation_noise), bool(learn_noise)
        self.mean = mlp_dynamics(features, self.hidden_units, "relu", name="mean")

    def build(self, input_shape):
        self.mean.build(tuple(input_shape))
        self.log_noise = self.add_weight(shape=(self.features,), name="log_noise", trainable=self.learn_noise,
                                         initializer=keras.initializers.Constant(math.log(self.observation_noise)))

    def call(self, z):
        return self.mean(z)

    def noise(self):
        return tf.exp(self.log_noise)

    def get_config(self):
        return dict(super().get_config(), features=self.features, hidden_units=list(self.hidden_units),
                    observation_noise=self.observation_noise, learn_noise=self.learn_noise)

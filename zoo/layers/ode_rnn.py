"""The ODE-RNN of Rubanova, Chen and Duvenaud, "Latent ODEs for Irregularly-Sampled Time Series"
(NeurIPS 2019), Algorithm 1: between observations the hidden state follows an ODE, dh/dt = f(h);
at each observation a GRU updates it, h_i = GRU(h'_i, [x_i, m_i]). Times without an observed value
(mask 0 everywhere) leave the evolved state as it is, so padding never changes the result.

Each row of a batch has its own times; an entry with nothing observed is moved to the time of the
last observation before it, so the state does not move across it. The solve from t_{i-1} to t_i runs in a rescaled time
s in [0, 1], dh/ds = (t_i - t_{i-1}) f(h), which is the same ODE for every row, so one batched
``odeint`` call serves rows whose gaps differ.
"""

import keras
import tensorflow as tf

from zoo.layers.ode_block import check_solver_choices
from zoo.solvers import odeint

# One Euler step per gap between observations: the encoder of Rubanova et al.'s code on series
# whose gaps are below its minimum step (a 50th of the time range).
DEFAULT_METHOD = "euler"
DEFAULT_STEP_SIZE = 1.0


def mlp_dynamics(units, hidden_units=(64,), activation="tanh", name=None):
    """Dense layers of ``hidden_units`` then a linear one to ``units``: a vector field (Rubanova et
    al.'s ODE nets: tanh hidden layers) or, with ReLU, the series models' decoders."""
    layers = [keras.layers.Dense(width, activation=activation) for width in hidden_units]
    return keras.Sequential(layers + [keras.layers.Dense(units)], name=name)


@keras.saving.register_keras_serializable(package="odezoo")
class ODERNNCell(keras.layers.Layer):
    """One ODE-RNN step, for ``keras.layers.RNN``. Its input at step i is ``[x_i * m_i, m_i, gap_i]``
    (values, mask, and the signed gap from the previous time); its state is h."""

    def __init__(self, units, dynamics=None, method=DEFAULT_METHOD, step_size=DEFAULT_STEP_SIZE, rtol=1e-3,
                 atol=1e-4, gradient="direct", **kwargs):
        super().__init__(**kwargs)
        check_solver_choices("ODERNN", method, gradient)
        self.units = units
        self.dynamics = dynamics if dynamics is not None else mlp_dynamics(units, name="ode_rnn_dynamics")
        self.gru = keras.layers.GRUCell(units, name="gru")
        self.solver_options = dict(method=method, step_size=step_size, rtol=rtol, atol=atol, gradient=gradient)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        features = (input_shape[-1] - 1) // 2
        if not self.dynamics.built:
            self.dynamics.build((None, self.units))
        self.gru.build((None, 2 * features))

    def _rescaled_field(self, s, state):
        # The gap rides in the state (its derivative is 0) rather than in a closure, so that eager
        # calls reuse one compiled solver for this method.
        return {"h": state["gap"] * self.dynamics(state["h"]), "gap": tf.zeros_like(state["gap"])}

    def evolve(self, h, gap):
        """h after a gap of ``gap`` (per row, shape (B, 1))."""
        state = {"h": h, "gap": gap}
        return odeint(self._rescaled_field, state, tf.constant([0.0, 1.0], h.dtype), **self.solver_options)["h"][-1]

    def call(self, inputs, states):
        h = states[0] if isinstance(states, (list, tuple)) else states
        features = (inputs.shape[-1] - 1) // 2
        observation, gap = inputs[:, :2 * features], inputs[:, 2 * features:]
        evolved = self.evolve(h, gap)
        updated, _ = self.gru(observation, [evolved])
        observed = tf.reduce_any(observation[:, features:] > 0, axis=-1, keepdims=True)
        h = tf.where(observed, updated, evolved)
        return h, [h]

    def get_config(self):
        return dict(super().get_config(), units=self.units,
                    dynamics=keras.saving.serialize_keras_object(self.dynamics), **self.solver_options)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dynamics"] = keras.saving.deserialize_keras_object(config["dynamics"])
        return cls(**config)


def first_observed_index(mask):
    """Each row's first entry with an observed value, (B,) int32 (0 for a row observing nothing)."""
    observed = tf.reduce_any(mask > 0, axis=-1)
    return tf.argmax(tf.cast(observed, tf.int32), axis=1, output_type=tf.int32)


def first_observed_times(times, mask):
    """Each row's first time with an observed value, (B,)."""
    return tf.gather(times, first_observed_index(mask), batch_dims=1)


def last_observed_times(times, mask):
    """Each row's last time with an observed value, (B,) (its first time for a row observing nothing)."""
    observed = tf.reduce_any(mask > 0, axis=-1)
    from_the_end = tf.argmax(tf.cast(tf.reverse(observed, axis=[1]), tf.int32), axis=1, output_type=tf.int32)
    last = tf.where(tf.reduce_any(observed, axis=1), tf.shape(times)[1] - 1 - from_the_end, 0)
    return tf.gather(times, last, batch_dims=1)


def solve_at_offsets(field, y0, offsets, message=None, **solver_options):
    """The states of an autonomous ODE dy/dt = field(t, y) (B, ...) at each row's ``offsets`` (B, Q)
    from y0 at offset 0: one ``odeint`` over the sorted union of the offsets serves the batch, since
    every row sees the same field whatever time it starts at. With a ``message``, negative offsets
    fail with it (without, the caller guarantees there are none).
    Returns the states (B, Q, ...) and the solve's stats."""
    checks = [] if message is None else [tf.debugging.assert_greater_equal(offsets, tf.zeros_like(offsets),
                                                                           message=message)]
    with tf.control_dependencies(checks):
        flat = tf.reshape(offsets, [-1])
    grid, _ = tf.unique(tf.sort(tf.concat([tf.zeros([1], flat.dtype), flat], axis=0)))
    ys, stats = odeint(field, y0, grid, return_stats=True, **solver_options)  # (N, B, ...)
    where = tf.reshape(tf.searchsorted(grid, flat), tf.shape(offsets))
    rank = len(y0.shape)
    return tf.gather(tf.transpose(ys, [1, 0] + list(range(2, rank + 1))), where, batch_dims=1), stats


def observed_times(times, mask):
    """``times`` with each entry that observes nothing moved to the last observed time before it (the
    first observed time for entries before any): the state then does not move across padding, wherever
    the padding lies and whatever times it holds."""
    observed = tf.reduce_any(mask > 0, axis=-1)
    length = tf.shape(times)[1]
    index = tf.range(length)
    seen = tf.where(observed, index[None], -1)  # (B, T)
    earlier = index[None, :] <= index[:, None]  # (T, T): j <= i
    last_seen = tf.reduce_max(tf.where(earlier[None], seen[:, None, :], -1), axis=-1)
    source = tf.where(last_seen >= 0, last_seen, first_observed_index(mask)[:, None])
    return tf.gather(times, source, batch_dims=1)


# The solve from the last observation to the query times of a forecast: adaptive, in real time.
FORECAST_SOLVER = dict(method="dopri5", rtol=1e-3, atol=1e-4, gradient="direct", max_steps=10_000)
EARLY_FORECAST = ("a query time lies before its series' last observed time; a forecast starts there (give "
                  "query times at or after it, or use zoo.LatentODE to interpolate).")


@keras.saving.register_keras_serializable(package="odezoo")
class ODERNN(keras.layers.Layer):
    """The ODE-RNN over irregular series: ``layer({"times": (B, T), "values": (B, T, D), "mask":
    (B, T, D)})`` returns the hidden state after the last time, (B, units), or with
    ``return_sequences`` the state after every time, (B, T, units). ``go_backwards`` runs from the
    last time to the first (the latent ODE's encoder, which summarizes a series into z0).

    Given ``"query_times"`` (B, Q) too, the layer forecasts: the state after the last observation
    follows dh/dt = f(h) on to each query time (at or after that observation), (B, Q, units), solved
    with ``forecast_solver`` (``odeint``'s options; by default FORECAST_SOLVER).

    Args:
      units: the hidden state's size.
      dynamics: the vector field f(h), any Keras layer mapping (B, units) to (B, units); by default
        dense layers (64 tanh units, then linear).
      method, step_size, rtol, atol, gradient: ``odeint``'s options for each gap, in the rescaled time
        s in [0, 1] (step_size 1.0: one step per gap). By default one Euler step per gap.
      forecast_solver: a dict of ``odeint`` options overriding FORECAST_SOLVER's, for query times.
    """

    def __init__(self, units, dynamics=None, method=DEFAULT_METHOD, step_size=DEFAULT_STEP_SIZE, rtol=1e-3,
                 atol=1e-4, gradient="direct", return_sequences=False, go_backwards=False, forecast_solver=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.cell = ODERNNCell(units, dynamics, method=method, step_size=step_size, rtol=rtol, atol=atol,
                               gradient=gradient, name="cell")
        self.return_sequences, self.go_backwards = return_sequences, go_backwards
        self.forecast_solver = dict(FORECAST_SOLVER, **(forecast_solver or {}))
        unknown = set(self.forecast_solver) - set(FORECAST_SOLVER)
        if unknown:
            raise ValueError(f"ODERNN: unknown forecast_solver options {sorted(unknown)}; the options are "
                             f"{sorted(FORECAST_SOLVER)}.")
        check_solver_choices("ODERNN", self.forecast_solver["method"], self.forecast_solver["gradient"])
        self.rnn = keras.layers.RNN(self.cell, return_sequences=return_sequences, go_backwards=go_backwards)

    def build(self, input_shape):
        features = input_shape["values"][-1]
        self.rnn.build((None, None, 2 * features + 1))

    def call(self, inputs):
        forecast = "query_times" in inputs
        if forecast and (self.go_backwards or self.return_sequences):
            raise ValueError("ODERNN: query times need a forward layer returning its last state "
                             "(go_backwards=False, return_sequences=False).")
        values = inputs["values"]
        mask = tf.cast(inputs["mask"], values.dtype)
        times = observed_times(tf.cast(inputs["times"], values.dtype), mask)
        # The gap before each time, taken in the direction the loop runs; the first state starts there.
        gaps = times[:, 1:] - times[:, :-1]
        if self.go_backwards:
            gaps = tf.concat([-gaps, tf.zeros_like(times[:, :1])], axis=1)
        else:
            gaps = tf.concat([tf.zeros_like(times[:, :1]), gaps], axis=1)
        steps = tf.concat([values * mask, mask, gaps[..., None]], axis=-1)
        outputs = self.rnn(steps)
        if forecast:
            offsets = tf.cast(inputs["query_times"], values.dtype) - last_observed_times(times, mask)[:, None]
            states, _ = solve_at_offsets(lambda t, h: self.cell.dynamics(h), outputs, offsets,
                                         f"ODERNN: {EARLY_FORECAST}", **self.forecast_solver)
            return states
        if self.return_sequences and self.go_backwards:
            outputs = tf.reverse(outputs, axis=[1])  # states in the order of the times
        return outputs

    def get_config(self):
        cell = self.cell.get_config()
        return dict(super().get_config(), units=cell["units"], dynamics=cell["dynamics"],
                    **self.cell.solver_options, return_sequences=self.return_sequences,
                    go_backwards=self.go_backwards, forecast_solver=self.forecast_solver)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dynamics"] = keras.saving.deserialize_keras_object(config["dynamics"])
        return cls(**config)

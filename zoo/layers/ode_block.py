"""``ODEBlock``: a Keras 3 layer that integrates a vector field given as any Keras layer or model.

``ODEBlock(dynamics)`` integrates dy/dt = dynamics(y) (or dynamics(y, t=t) when the dynamics' ``call``
takes a ``t`` argument) with ``zoo.solvers.odeint``. It reports the forward and backward number of
function evaluations as metrics (``nfe_forward``, ``nfe_backward``: means per batch, in ``fit`` logs
and TensorBoard), and offers the regularizers of Finlay, Jacobsen, Nurbekyan and Oberman, "How to
train your neural ODE", ICML 2020: the kinetic energy int ||f||^2 dt and the Jacobian Frobenius norm
int ||df/dy||_F^2 dt (Hutchinson's estimator, one Gaussian probe per solve), integrated alongside
the state and added as losses.
"""

import inspect

import keras
import tensorflow as tf

from zoo.solvers import GRADIENT_MODES, METHODS, odeint


def check_solver_choices(owner, method, gradient):
    """Refuses, at construction rather than at the first call, an unknown ``odeint`` method or
    gradient mode, naming ``owner`` (the layer or model the user built)."""
    if method not in METHODS:
        raise ValueError(f"{owner}: unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    if gradient not in GRADIENT_MODES:
        raise ValueError(f"{owner}: unknown gradient {gradient!r}; choose one of: {', '.join(GRADIENT_MODES)}.")


@keras.saving.register_keras_serializable(package="odezoo")
class MeanPerBatch(keras.metrics.Metric):
    """The mean of a count over the batches of an epoch; the solver adds to ``total`` itself (the
    backward pass runs after the layer's call), the layer counts the batches."""

    def __init__(self, name, **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="total")
        self.batches = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="batches")

    def update_state(self, count=None, batches=1):
        if count is not None:
            self.total.assign_add(tf.cast(count, "int32"))
        self.batches.assign_add(batches)

    def result(self):
        return tf.cast(self.total, "float32") / tf.cast(tf.maximum(self.batches, 1), "float32")

    def reset_state(self):
        self.total.assign(0)
        self.batches.assign(0)


@keras.saving.register_keras_serializable(package="odezoo")
class ODEBlock(keras.layers.Layer):
    """Integrates ``dynamics`` (any Keras layer or model) from t[0] to t[-1].

    Args:
      dynamics: the vector field. Called as ``dynamics(y)``, or ``dynamics(y, t=t)`` when its
        ``call`` has a ``t`` parameter (time-dependent dynamics such as ``ConcatConv2D`` stacks).
      t: the integration times; the block returns y(t[-1]), or with ``return_sequences`` the states
        at every time in ``t`` (a leading time axis). A call can give its own: ``block(y0, t=times)``
        (a 1-D tensor, increasing or decreasing, at least two times) integrates over those instead.
      method, rtol, atol, step_size, max_steps, gradient, adjoint_*: passed to ``odeint``.
      kinetic_energy, jacobian_frobenius: weights of Finlay et al.'s regularizers (0 disables).
    """

    def __init__(self, dynamics, t=(0.0, 1.0), return_sequences=False, method="dopri5", rtol=1e-3, atol=1e-3,
                 step_size=None, max_steps=10_000, gradient="direct", adjoint_method=None, adjoint_rtol=None,
                 adjoint_atol=None, adjoint_seminorm=True, kinetic_energy=0.0, jacobian_frobenius=0.0, **kwargs):
        super().__init__(**kwargs)
        check_solver_choices("ODEBlock", method, gradient)
        times = [float(x) for x in t]
        if len(times) < 2:
            raise ValueError(f"ODEBlock: t needs at least a start and an end time, got {t!r}.")
        if min(kinetic_energy, jacobian_frobenius) < 0:
            raise ValueError("ODEBlock: regularizer weights must be non-negative.")
        self.dynamics = dynamics
        self.t = times
        self.return_sequences = return_sequences
        options = dict(method=method, rtol=rtol, atol=atol, step_size=step_size, max_steps=max_steps,
                       gradient=gradient)
        if gradient == "adjoint":
            options.update(adjoint_method=adjoint_method, adjoint_rtol=adjoint_rtol, adjoint_atol=adjoint_atol,
                           adjoint_seminorm=adjoint_seminorm)
        self.solver_options = options
        self.kinetic_energy = float(kinetic_energy)
        self.jacobian_frobenius = float(jacobian_frobenius)
        self.time_dependent = "t" in inspect.signature(dynamics.call).parameters
        self.nfe_forward = MeanPerBatch("nfe_forward")
        self.nfe_backward = MeanPerBatch("nfe_backward") if gradient != "direct" else None

    def build(self, input_shape):
        if not self.dynamics.built:
            self.dynamics.build(input_shape)

    def _field(self, t, y):
        return self.dynamics(y, t=t) if self.time_dependent else self.dynamics(y)

    def _regularized_field(self, t, state):
        y, probe = state["y"], state["probe"]
        if self.jacobian_frobenius:
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(y)
                f = self._field(t, y)
            probe_jacobian = tape.gradient(f, y, output_gradients=probe)
        else:
            f = self._field(t, y)
            probe_jacobian = tf.zeros_like(y)
        axes = list(range(1, len(y.shape)))
        return {"y": f, "probe": tf.zeros_like(probe),
                "kinetic": tf.reduce_sum(tf.square(f), axis=axes),
                "frobenius": tf.reduce_sum(tf.square(probe_jacobian), axis=axes)}

    def call(self, inputs, t=None, training=None):
        if t is None:
            times = tf.constant(self.t, inputs.dtype)
        else:
            times = tf.cast(t, inputs.dtype)
            if times.shape.rank is not None and (times.shape.rank != 1 or (times.shape[0] or 2) < 2):
                raise ValueError(f"ODEBlock: call-time t must be a 1-D tensor of at least two times, got shape "
                                 f"{times.shape}.")
        regularized = training and (self.kinetic_energy or self.jacobian_frobenius)
        if regularized:
            batch = tf.shape(inputs)[0]
            zeros = tf.zeros([batch], inputs.dtype)
            state = {"y": inputs, "probe": tf.random.normal(tf.shape(inputs), dtype=inputs.dtype),
                     "kinetic": zeros, "frobenius": zeros}
            field = self._regularized_field
        else:
            state, field = inputs, self._field
        extra = {}
        if self.nfe_backward is not None and training:
            extra["backward_nfe"] = self.nfe_backward.total
        ys, stats = odeint(field, state, times, return_stats=True,
                           **self.solver_options, **extra)
        self.nfe_forward.update_state(stats["nfe"])
        if self.nfe_backward is not None and training:
            self.nfe_backward.update_state()
        if regularized:
            if self.kinetic_energy:
                self.add_loss(self.kinetic_energy * tf.reduce_mean(ys["kinetic"][-1]))
            if self.jacobian_frobenius:
                self.add_loss(self.jacobian_frobenius * tf.reduce_mean(ys["frobenius"][-1]))
            ys = ys["y"]
        return ys if self.return_sequences else ys[-1]

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (len(self.t),) + tuple(input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        options = dict(self.solver_options)
        config.update(dynamics=keras.saving.serialize_keras_object(self.dynamics), t=self.t,
                      return_sequences=self.return_sequences, kinetic_energy=self.kinetic_energy,
                      jacobian_frobenius=self.jacobian_frobenius, **options)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dynamics"] = keras.saving.deserialize_keras_object(config["dynamics"])
        return cls(**config)

"""The parts of FFJORD (Grathwohl et al. 2019): the concat-squash vector field and the flow layer
that integrates it together with the change in log-density (the instantaneous change of variables,
d log p(z(t)) / dt = -tr(df/dz)), in ``num_blocks`` blocks of learned length."""

import math

import keras
import tensorflow as tf

from zoo.layers.concat import ConcatSquashDense
from zoo.layers.ode_block import MeanPerBatch, check_solver_choices
from zoo.solvers import odeint

TRACES = ("hutchinson", "exact")
NOISES = ("rademacher", "gaussian")


@keras.saving.register_keras_serializable(package="odezoo")
class ConcatSquashField(keras.layers.Layer):
    """FFJORD's ODEnet for vectors: concat-squash layers, the activation between them, none after the
    last (of ``dim`` units, the velocity)."""

    def __init__(self, dim, hidden_units=(64, 64, 64), activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.dim, self.hidden_units, self.activation = int(dim), tuple(int(u) for u in hidden_units), activation
        self.stack = [ConcatSquashDense(units, activation=activation) for units in self.hidden_units]
        self.stack.append(ConcatSquashDense(self.dim))

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.stack:
            layer.build(shape)
            shape = shape[:-1] + (layer.units,)

    def call(self, z, t=0.0):
        for layer in self.stack:
            z = layer(z, t=t)
        return z

    def get_config(self):
        return dict(super().get_config(), dim=self.dim, hidden_units=list(self.hidden_units),
                    activation=self.activation)


def _probe(shape, noise, dtype):
    if noise == "gaussian":
        return tf.random.normal(shape, dtype=dtype)
    return tf.cast(2 * tf.random.uniform(shape, 0, 2, dtype=tf.int32) - 1, dtype)


def standard_normal_log_prob(z):
    return -0.5 * tf.reduce_sum(tf.square(z), axis=-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


@keras.saving.register_keras_serializable(package="odezoo")
class ContinuousFlow(keras.layers.Layer):
    """Maps data x to latents z through ``num_blocks`` CNF blocks and returns log p(x) in nats: the
    standard normal's log-density at z plus each block's integrated trace. Each block solves
    dz/ds = T f(sT, z) on s in [0, 1], so its length T = sqrt_end_time^2 (FFJORD's parametrization)
    learns by ordinary gradients."""

    def __init__(self, dim, hidden_units=(64, 64, 64), activation="tanh", num_blocks=1, time_length=0.5,
                 trainable_time=True, trace="hutchinson", noise="rademacher", method="dopri5", rtol=1e-5, atol=1e-5,
                 gradient="adjoint", step_size=None, max_steps=10_000, kinetic_energy=0.0, jacobian_frobenius=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        check_solver_choices("CNF", method, gradient)
        if trace not in TRACES:
            raise ValueError(f"CNF: unknown trace {trace!r}; choose one of {TRACES}.")
        if noise not in NOISES:
            raise ValueError(f"CNF: unknown noise {noise!r}; choose one of {NOISES}.")
        if int(dim) < 1 or int(num_blocks) < 1:
            raise ValueError(f"CNF: dim and num_blocks must be positive, got dim={dim!r}, num_blocks={num_blocks!r}.")
        if not time_length > 0:
            raise ValueError(f"CNF: time_length must be positive, got {time_length!r}.")
        if min(kinetic_energy, jacobian_frobenius) < 0:
            raise ValueError("CNF: regularizer weights must be non-negative.")
        self.dim, self.num_blocks = int(dim), int(num_blocks)
        self.time_length, self.trainable_time = float(time_length), bool(trainable_time)
        self.trace, self.noise = trace, noise
        self.kinetic_energy, self.jacobian_frobenius = float(kinetic_energy), float(jacobian_frobenius)
        self.solver_options = dict(method=method, rtol=rtol, atol=atol, step_size=step_size, max_steps=max_steps,
                                   gradient=gradient)
        self.fields = [ConcatSquashField(dim, hidden_units, activation, name=f"field_{block}")
                       for block in range(self.num_blocks)]
        self.nfe_forward = MeanPerBatch("nfe_forward")
        self.nfe_backward = MeanPerBatch("nfe_backward") if gradient != "direct" else None

    def build(self, input_shape):
        for field in self.fields:
            field.build((None, self.dim))
        self.sqrt_end_times = [
            self.add_weight(shape=(), initializer=keras.initializers.Constant(math.sqrt(self.time_length)),
                            trainable=self.trainable_time, name=f"sqrt_end_time_{block}")
            for block in range(self.num_blocks)]

    def _end_time(self, block, dtype):
        return tf.cast(tf.square(self.sqrt_end_times[block]), dtype)

    def _augmented_field(self, block, exact, regularized):
        field = self.fields[block]

        def augmented(s, state):
            end_time = self._end_time(block, state["z"].dtype)
            z = state["z"]
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(z)
                f = field(z, t=s * end_time)
            derivatives = {"z": end_time * f}
            if exact:
                jacobian = tape.batch_jacobian(f, z)
                derivatives["trace"] = end_time * tf.linalg.trace(jacobian)
            else:
                probe = state["probe"]
                probe_jacobian = tape.gradient(f, z, output_gradients=probe)
                derivatives["trace"] = end_time * tf.reduce_sum(probe_jacobian * probe, axis=-1)
                derivatives["probe"] = tf.zeros_like(probe)
            if regularized:
                # The exact Jacobian's squared Frobenius norm, or Hutchinson's estimate of it.
                frobenius = (tf.reduce_sum(tf.square(jacobian), axis=[1, 2]) if exact
                             else tf.reduce_sum(tf.square(probe_jacobian), axis=-1))
                derivatives["kinetic"] = end_time * tf.reduce_sum(tf.square(f), axis=-1)
                derivatives["frobenius"] = end_time * frobenius
            return derivatives

        return augmented

    def _solve(self, field, state, start, end, training):
        times = tf.constant([start, end], state["z"].dtype if isinstance(state, dict) else state.dtype)
        extra = {"backward_nfe": self.nfe_backward.total} if self.nfe_backward is not None and training else {}
        ys, stats = odeint(field, state, times, return_stats=True, **self.solver_options, **extra)
        self.nfe_forward.update_state(stats["nfe"])
        if extra:
            self.nfe_backward.update_state()
        return tf.nest.map_structure(lambda y: y[-1], ys)

    def call(self, x, training=None, trace=None):
        """log p(x) in nats, shape (B,); ``trace`` overrides the layer's ("exact" or "hutchinson")."""
        exact = (trace or self.trace) == "exact"
        regularized = bool(training) and bool(self.kinetic_energy or self.jacobian_frobenius)
        z = x
        zeros = tf.zeros(tf.shape(x)[:1], x.dtype)
        log_det = zeros
        for block in range(self.num_blocks):
            state = {"z": z, "trace": zeros}
            if not exact:
                # One probe per solve, held fixed, so the adaptive solver integrates deterministic dynamics.
                state["probe"] = _probe(tf.shape(x), self.noise, x.dtype)
            if regularized:
                state.update(kinetic=zeros, frobenius=zeros)
            end = self._solve(self._augmented_field(block, exact, regularized), state, 0.0, 1.0, training)
            z, log_det = end["z"], log_det + end["trace"]
            if regularized:
                if self.kinetic_energy:
                    self.add_loss(self.kinetic_energy * tf.reduce_mean(end["kinetic"]))
                if self.jacobian_frobenius:
                    self.add_loss(self.jacobian_frobenius * tf.reduce_mean(end["frobenius"]))
        return standard_normal_log_prob(z) + log_det

    def _velocity(self, block):
        field = self.fields[block]

        def velocity(s, z):
            end_time = self._end_time(block, z.dtype)
            return end_time * field(z, t=s * end_time)

        return velocity

    def transform(self, x):
        """The latent z of data x (the flow solved forward, without the trace)."""
        z = tf.convert_to_tensor(x)
        for block in range(self.num_blocks):
            z = self._solve(self._velocity(block), z, 0.0, 1.0, training=False)
        return z

    def inverse(self, z):
        """Data x of latents z (the blocks solved backwards in time, the last first)."""
        x = tf.convert_to_tensor(z)
        for block in reversed(range(self.num_blocks)):
            x = self._solve(self._velocity(block), x, 1.0, 0.0, training=False)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        return dict(super().get_config(), dim=self.dim, hidden_units=list(self.fields[0].hidden_units),
                    activation=self.fields[0].activation, num_blocks=self.num_blocks, time_length=self.time_length,
                    trainable_time=self.trainable_time, trace=self.trace, noise=self.noise,
                    kinetic_energy=self.kinetic_energy, jacobian_frobenius=self.jacobian_frobenius, **self.solver_options)

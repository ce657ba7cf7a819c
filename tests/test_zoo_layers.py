"""zoo.layers: ODEBlock against odeint, gradient modes, metrics, regularizers, serialization."""

import json
import math

import keras
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import tensorflow as tf

import zoo
from zoo.solvers import odeint


def dense_dynamics(seed=0):
    layer = keras.layers.Dense(3, activation="tanh", kernel_initializer=keras.initializers.GlorotNormal(seed))
    layer.build((None, 3))
    return layer


def test_ode_block_equals_odeint():
    dynamics = dense_dynamics()
    x = tf.constant(np.random.default_rng(0).normal(size=(5, 3)), tf.float32)
    block = zoo.ODEBlock(dynamics, t=(0.0, 0.5, 1.0), return_sequences=True, rtol=1e-6, atol=1e-7)
    expected = odeint(lambda t, y: dynamics(y), x, [0.0, 0.5, 1.0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(block(x).numpy(), expected.numpy(), rtol=0, atol=1e-7)
    last = zoo.ODEBlock(dynamics, rtol=1e-6, atol=1e-7)(x)
    np.testing.assert_allclose(last.numpy(), expected[-1].numpy(), rtol=0, atol=1e-7)


def test_call_time_integration_times_match_scipy():
    dynamics = dense_dynamics(seed=1)
    x = np.random.default_rng(1).normal(size=(4, 3))
    block = zoo.ODEBlock(dynamics, return_sequences=True, rtol=1e-7, atol=1e-8)
    kernel, bias = (w.astype("float64") for w in dynamics.get_weights())

    def reference(times):
        solution = scipy.integrate.solve_ivp(lambda t, y: np.tanh(y.reshape(4, 3) @ kernel + bias).ravel(),
                                             (times[0], times[-1]), x.ravel(), t_eval=times, rtol=1e-11,
                                             atol=1e-12)
        return solution.y.T.reshape(len(times), 4, 3)

    for times in ([0.0, 0.3, 2.0], [1.0, -0.5]):  # forwards and backwards, other than the block's (0, 1)
        ours = block(tf.constant(x, tf.float32), t=tf.constant(times))
        np.testing.assert_allclose(ours.numpy(), reference(times), rtol=0, atol=2e-5)
    traced = tf.function(lambda y, t: block(y, t=t))
    np.testing.assert_allclose(traced(tf.constant(x, tf.float32), tf.constant([0.0, 0.3, 2.0])).numpy(),
                               reference([0.0, 0.3, 2.0]), rtol=0, atol=2e-5)
    np.testing.assert_allclose(block(tf.constant(x, tf.float32)).numpy(), reference([0.0, 1.0]), atol=2e-5)
    with pytest.raises(ValueError, match="1-D tensor of at least two times"):
        block(tf.constant(x, tf.float32), t=tf.constant([[0.0, 1.0]]))


def test_time_dependent_dynamics_receive_t():
    dynamics = zoo.ConcatDense(3)
    dynamics.build((None, 3))
    x = tf.ones([2, 3])
    block = zoo.ODEBlock(dynamics, rtol=1e-6, atol=1e-7)
    assert block.time_dependent
    expected = odeint(lambda t, y: dynamics(y, t=t), x, [0.0, 1.0], rtol=1e-6, atol=1e-7)[-1]
    np.testing.assert_allclose(block(x).numpy(), expected.numpy(), atol=1e-7)
    # and t matters: the same layer fed t = 0 throughout gives another answer
    frozen = odeint(lambda t, y: dynamics(y, t=0.0), x, [0.0, 1.0], rtol=1e-6, atol=1e-7)[-1]
    assert np.max(np.abs(frozen.numpy() - expected.numpy())) > 1e-4


@pytest.mark.parametrize("gradient", ["checkpoint", "adjoint"])
def test_ode_block_gradients_in_each_mode(gradient):
    x = tf.constant(np.random.default_rng(1).normal(size=(4, 3)), tf.float32)

    def grads(mode):
        dynamics = dense_dynamics(seed=3)
        block = zoo.ODEBlock(dynamics, gradient=mode, rtol=1e-6, atol=1e-7)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(block(x) ** 2)
        return [g.numpy() for g in tape.gradient(loss, [x] + dynamics.trainable_variables)]

    tolerance = 1e-5 if gradient == "checkpoint" else 1e-3
    for a, b in zip(grads("direct"), grads(gradient)):
        np.testing.assert_allclose(b, a, rtol=tolerance, atol=tolerance)


def test_nfe_metrics_in_fit_logs():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1)(zoo.ODEBlock(dense_dynamics(), gradient="adjoint", name="ode")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    history = model.fit(x, x[:, :1], epochs=2, batch_size=16, verbose=0)
    assert min(history.history["nfe_forward"]) >= 8  # dopri5: at least one step and the first evaluations
    assert min(history.history["nfe_backward"]) > 0


def test_kinetic_energy_regularizer_matches_closed_form():
    """For linear dynamics f = A y the kinetic energy int_0^1 ||A y(t)||^2 dt has an exact reference:
    y(t) = expm(A t) y0, integrated by scipy's quad."""
    a = np.array([[-0.5, 1.0, 0.0], [-1.0, -0.2, 0.3], [0.0, -0.4, -0.1]])
    dynamics = keras.layers.Dense(3, use_bias=False)
    dynamics.build((None, 3))
    dynamics.kernel.assign(a.T.astype("float32"))  # Dense computes y @ kernel
    y0 = np.random.default_rng(2).normal(size=(4, 3))
    block = zoo.ODEBlock(dynamics, rtol=1e-7, atol=1e-8, kinetic_energy=0.5)
    block(tf.constant(y0, tf.float32), training=True)

    def energy(y0_row):
        return scipy.integrate.quad(lambda t: np.sum((a @ scipy.linalg.expm(a * t) @ y0_row) ** 2), 0, 1,
                                    epsabs=1e-12)[0]

    expected = 0.5 * np.mean([energy(row) for row in y0])
    np.testing.assert_allclose(float(block.losses[0]), expected, rtol=1e-5)


def test_jacobian_frobenius_regularizer_estimates_the_norm():
    """Hutchinson's estimate of int ||A||_F^2 dt over many probes averages to ||A||_F^2."""
    a = np.array([[0.3, -1.0], [0.8, -0.2]])
    dynamics = keras.layers.Dense(2, use_bias=False)
    dynamics.build((None, 2))
    dynamics.kernel.assign(a.T.astype("float32"))
    block = zoo.ODEBlock(dynamics, jacobian_frobenius=1.0)
    tf.random.set_seed(0)
    block(tf.zeros([20_000, 2]), training=True)
    np.testing.assert_allclose(float(block.losses[0]), np.sum(a ** 2), rtol=3e-2)


def test_serialization_round_trip(tmp_path):
    inputs = keras.Input((3,))
    outputs = zoo.ODEBlock(zoo.ConcatDense(3, activation="tanh"), t=(0.0, 0.3, 1.0), gradient="adjoint",
                           adjoint_rtol=1e-4, kinetic_energy=0.1, name="ode")(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    block = loaded.get_layer("ode")
    assert block.t == [0.0, 0.3, 1.0] and block.solver_options["gradient"] == "adjoint"
    assert block.solver_options["adjoint_rtol"] == 1e-4 and block.kinetic_energy == 0.1


# Between them, every constructor option away from its default (adjoint_* only count with
# gradient="adjoint", step_size only makes sense with fixed steps).
ADJOINT_BLOCK = dict(t=[0.0, 0.25, 1.0], return_sequences=True, method="tsit5", rtol=1e-5, atol=1e-6, step_size=None,
                     max_steps=321, gradient="adjoint", adjoint_method="bosh3", adjoint_rtol=1e-4, adjoint_atol=1e-5,
                     adjoint_seminorm=False, kinetic_energy=0.25, jacobian_frobenius=0.5)
FIXED_STEP_BLOCK = dict(t=[0.0, 1.0], return_sequences=False, method="rk4", rtol=1e-3, atol=1e-3, step_size=0.125,
                        max_steps=50, gradient="checkpoint", kinetic_energy=0.0, jacobian_frobenius=0.0)


@pytest.mark.parametrize("options", [ADJOINT_BLOCK, FIXED_STEP_BLOCK], ids=["adjoint", "fixed_step"])
def test_block_config_round_trip_keeps_every_option_and_the_behaviour(options):
    dynamics = zoo.ConcatDense(3, activation="tanh", name="field")
    block = zoo.ODEBlock(dynamics, name="ode", **options)
    config = block.get_config()
    assert {key: config[key] for key in options} == options
    assert config["name"] == "ode" and config["dynamics"]["config"]["units"] == 3
    saved = json.loads(json.dumps(keras.saving.serialize_keras_object(block)))
    clone = keras.saving.deserialize_keras_object(saved)
    assert type(clone) is zoo.ODEBlock and clone.get_config() == config

    x = tf.constant(np.random.default_rng(4).normal(size=(5, 3)), tf.float32)
    block(x)
    clone(x)
    clone.set_weights(block.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), block(x).numpy())
    outputs, losses = [], []
    for layer in (block, clone):
        keras.utils.set_random_seed(0)  # the same Hutchinson probe for both
        outputs.append(layer(x, training=True).numpy())
        losses.append([float(loss) for loss in layer.losses])
    np.testing.assert_array_equal(outputs[1], outputs[0])
    regularizers = (options["kinetic_energy"] > 0) + (options["jacobian_frobenius"] > 0)
    assert losses[1] == losses[0] and len(losses[0]) == regularizers


def linear_dynamics(matrix):
    """dy/dt = matrix @ y as a Keras layer (Dense computes y @ kernel)."""
    layer = keras.layers.Dense(len(matrix), use_bias=False)
    layer.build((None, len(matrix)))
    layer.kernel.assign(matrix.T.astype("float32"))
    return layer


# A damped rotation, and a stiff system (eigenvalues -1000, -1, -0.5) that explicit methods would
# cross in hundreds of steps.
ROTATION = np.array([[-0.5, 2.0, 0.0], [-2.0, -0.5, 0.5], [0.0, -0.5, -1.0]])
STIFF = np.array([[-1000.0, 999.0, 0.0], [0.0, -1.0, 0.5], [0.0, 0.0, -0.5]])


def rk4_map(matrix, step, steps):
    """rk4's exact discrete flow for dy/dt = A y: each step multiplies by the degree-4 Taylor
    polynomial of exp(step A)."""
    h = step * matrix
    one_step = sum(np.linalg.matrix_power(h, k) / math.factorial(k) for k in range(5))
    return np.linalg.matrix_power(one_step, steps)


@pytest.mark.parametrize("method, options, matrix, flow, tolerance", [
    ("rk4", dict(step_size=0.25), ROTATION, rk4_map(ROTATION, 0.25, 4), 2e-6),
    ("tsit5", dict(rtol=1e-6, atol=1e-8), ROTATION, scipy.linalg.expm(ROTATION), 1e-5),
    ("radau", dict(rtol=1e-5, atol=1e-7), STIFF, scipy.linalg.expm(STIFF), 1e-5),
    ("rodas5p", dict(rtol=1e-5, atol=1e-7), STIFF, scipy.linalg.expm(STIFF), 1e-5),
], ids=["rk4", "tsit5", "radau", "rodas5p"])
def test_ode_block_with_fixed_step_stiff_and_tsit5_methods(method, options, matrix, flow, tolerance):
    """Against the closed-form flow y(1) = flow @ y0 (for rk4 its own discrete flow, 1e-3 away from
    exp(A), so a finer step or an adaptive method fails), and against odeint with the same options,
    step for step."""
    dynamics = linear_dynamics(matrix)
    y0 = np.random.default_rng(5).normal(size=(4, 3))
    x = tf.constant(y0, tf.float32)
    block = zoo.ODEBlock(dynamics, method=method, **options)
    y1 = block(x).numpy()
    np.testing.assert_allclose(y1, y0 @ flow.T, rtol=0, atol=tolerance)
    ys, stats = odeint(lambda t, y: dynamics(y), x, [0.0, 1.0], method=method, return_stats=True, **options)
    np.testing.assert_array_equal(y1, ys[-1].numpy())
    assert float(block.nfe_forward.result()) == int(stats["nfe"])


def test_bad_block_options():
    with pytest.raises(ValueError, match="unknown method 'rk5'"):
        zoo.ODEBlock(dense_dynamics(), method="rk5")
    with pytest.raises(ValueError, match="at least a start and an end"):
        zoo.ODEBlock(dense_dynamics(), t=(0.0,))


def test_concat_squash_dense_gates_and_shifts_by_time_as_ffjord_defines_it():
    layer = zoo.layers.ConcatSquashDense(3, activation="tanh")
    x = np.random.default_rng(0).standard_normal((5, 2)).astype("float32")
    t = 0.7
    out = layer(x, t=t).numpy()
    kernel, bias = (w.numpy() for w in layer.dense.weights)
    gate_kernel, gate_bias = (w.numpy() for w in layer.gate.weights)
    (shift_kernel,) = (w.numpy() for w in layer.shift.weights)
    gate = 1 / (1 + np.exp(-(t * gate_kernel + gate_bias)))
    np.testing.assert_allclose(out, np.tanh((x @ kernel + bias) * gate + t * shift_kernel), rtol=1e-5, atol=1e-6)
    restored = zoo.layers.ConcatSquashDense.from_config(layer.get_config())
    assert restored.units == 3 and restored.activation == "tanh"

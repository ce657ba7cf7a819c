"""zoo.layers: ODEBlock against odeint, gradient modes, metrics, regularizers, serialization."""

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


def test_bad_block_options():
    with pytest.raises(ValueError, match="unknown method 'rk5'"):
        zoo.ODEBlock(dense_dynamics(), method="rk5")
    with pytest.raises(ValueError, match="at least a start and an end"):
        zoo.ODEBlock(dense_dynamics(), t=(0.0,))

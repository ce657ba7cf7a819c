"""Gradient modes: checkpoint equals direct, and both match finite differences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from finite_differences import central_difference
from zoo.solvers import odeint

CASES = [("dopri5", {"rtol": 1e-9, "atol": 1e-10}), ("tsit5", {"rtol": 1e-9, "atol": 1e-10}),
         ("dopri8", {"rtol": 1e-9, "atol": 1e-10}), ("bosh3", {"rtol": 1e-7, "atol": 1e-9}),
         ("rk4", {"step_size": 0.1}), ("euler", {"step_size": 0.05}),
         ("rodas5p", {"rtol": 1e-9, "atol": 1e-10})]


def problem():
    weights = tf.Variable([[-0.3, 1.1], [-0.9, -0.2]], dtype=tf.float64)
    y0 = tf.constant([1.0, -0.5], tf.float64)
    t = tf.constant([0.0, 0.7, 1.3, 2.0], tf.float64)
    readout = tf.constant([[1.0, -2.0], [0.5, 0.3], [-1.0, 0.7]], tf.float64)

    def func(t, y):
        return tf.tanh(tf.linalg.matvec(weights, y)) + 0.1 * tf.sin(t)

    def loss(y0, t, **options):
        ys = odeint(func, y0, t, **options)
        return tf.reduce_sum(ys[1:] * readout) + tf.reduce_sum(ys[0])

    return weights, y0, t, loss


def gradients(loss, weights, y0, t, **options):
    with tf.GradientTape() as tape:
        tape.watch([y0, t])
        value = loss(y0, t, **options)
    return [g.numpy() for g in tape.gradient(value, [y0, weights, t])]


@pytest.mark.parametrize("method,options", CASES)
def test_checkpoint_equals_direct(method, options):
    weights, y0, t, loss = problem()
    direct = gradients(loss, weights, y0, t, method=method, gradient="direct", **options)
    checkpoint = gradients(loss, weights, y0, t, method=method, gradient="checkpoint", **options)
    for a, b in zip(direct, checkpoint):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method,options", [("dopri5", {"rtol": 1e-11, "atol": 1e-12}), ("rk4", {"step_size": 0.01})])
def test_checkpoint_matches_finite_differences(method, options):
    weights, y0, t, loss = problem()
    grad_y0, grad_w, grad_t = gradients(loss, weights, y0, t, method=method, gradient="checkpoint", **options)
    fd_y0 = central_difference(lambda y: float(loss(tf.constant(y), t, method=method, **options)), y0.numpy())
    fd_t = central_difference(lambda s: float(loss(y0, tf.constant(s), method=method, **options)), t.numpy())
    w0 = weights.numpy()

    def loss_at(w):
        weights.assign(w)
        return float(loss(y0, t, method=method, **options))

    fd_w = central_difference(loss_at, w0)
    weights.assign(w0)
    np.testing.assert_allclose(grad_y0, fd_y0, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_w, fd_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_t, fd_t, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("jit", [False, True])
def test_checkpoint_with_keras_weights_and_nested_float32_state(jit):
    layer = keras.layers.Dense(3, activation="tanh")
    layer.build((None, 3))
    state = {"a": tf.constant(np.random.default_rng(0).normal(size=(4, 3)), tf.float32),
             "b": tf.zeros([4, 3], tf.float32)}
    t = tf.constant([0.0, 0.5, 1.0], tf.float32)

    def func(t, y):
        return {"a": layer(y["a"]) - 0.1 * y["b"], "b": y["a"]}

    def grads(mode, jit):
        def run(state, t):
            with tf.GradientTape() as tape:
                tape.watch([state, t])
                ys = odeint(func, state, t, gradient=mode, rtol=1e-5, atol=1e-6, max_steps=1000)
                value = tf.reduce_sum(ys["a"] ** 2) + tf.reduce_sum(ys["b"])
            return tape.gradient(value, [state, t] + layer.trainable_variables)

        return tf.nest.flatten(tf.function(run, jit_compile=jit)(state, t))

    # The reference is direct mode in a plain graph (direct gradients under XLA come with issue 5).
    for a, b in zip(grads("direct", False), grads("checkpoint", jit)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=2e-5)


def test_checkpoint_not_yet_for_implicit_methods():
    with pytest.raises(ValueError, match="gradient='checkpoint' does not support method 'radau' yet"):
        odeint(lambda t, y: -y, tf.ones([2], tf.float64), [0.0, 1.0], method="radau", gradient="checkpoint")

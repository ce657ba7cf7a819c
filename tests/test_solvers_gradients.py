"""Gradient modes: checkpoint equals direct, every mode matches finite differences, in every
execution mode (eager, graph, XLA, Keras fit, a SavedModel reloaded in a fresh process)."""

import json
import logging
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from finite_differences import central_difference
from zoo.solvers import GRADIENT_MODES, odeint

CASES = [("dopri5", {"rtol": 1e-9, "atol": 1e-10}), ("tsit5", {"rtol": 1e-9, "atol": 1e-10}),
         ("dopri8", {"rtol": 1e-9, "atol": 1e-10}), ("bosh3", {"rtol": 1e-7, "atol": 1e-9}),
         ("rk4", {"step_size": 0.1}), ("euler", {"step_size": 0.05}),
         ("rodas5p", {"rtol": 1e-9, "atol": 1e-10}), ("radau", {"rtol": 1e-10, "atol": 1e-12}),
         ("radau", {"step_size": 0.05, "rtol": 1e-10, "atol": 1e-12}), ("bdf", {"rtol": 1e-10, "atol": 1e-12})]
# Implicit steps: checkpoint differentiates the converged stages and direct the Newton iterates, which
# agree once Newton has converged; its tolerance follows rtol, hence rtol even for fixed-step Radau.
# The three methods the issue names, at tolerances where finite differences are meaningful.
REFERENCE = [("dopri5", {"rtol": 1e-11, "atol": 1e-12}), ("rk4", {"step_size": 0.01}),
             ("radau", {"rtol": 1e-11, "atol": 1e-12})]


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


MODES = [("direct", {}), ("checkpoint", {}), ("adjoint", {}), ("adjoint", {"adjoint_interpolate": True}),
         ("adjoint", {"adjoint_seminorm": False})]


# Each mode on the three reference methods; the adjoint's variants on dopri5 only (CI time).
FD_CASES = [(method, options, mode, extra) for method, options in REFERENCE for mode, extra in MODES
            if not extra or method == "dopri5"]


@pytest.mark.parametrize("method,options,mode,extra", FD_CASES,
                         ids=[f"{m}-{mode}{'-' + '-'.join(e) if e else ''}" for m, _, mode, e in FD_CASES])
def test_gradients_match_finite_differences(method, options, mode, extra, caplog):
    """Also without warnings: Radau solves a complex linear system every Newton iteration, and its
    gradient must come back real without tf.cast's warning (once per use) that casting complex to
    real discards the imaginary part."""
    weights, y0, t, loss = problem()
    with caplog.at_level(logging.WARNING):
        grad_y0, grad_w, grad_t = gradients(loss, weights, y0, t, method=method, gradient=mode, **options, **extra)
    assert not [message for message in caplog.messages if "casting" in message]
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


@pytest.mark.parametrize("method,options", REFERENCE, ids=[m for m, _ in REFERENCE])
@pytest.mark.parametrize("mode", ["direct", "checkpoint", "adjoint"])
def test_every_mode_under_xla_equals_graph(method, options, mode):
    weights, y0, t, loss = problem()

    def run(jit):
        @tf.function(jit_compile=jit)
        def grads(y0, t):
            with tf.GradientTape() as tape:
                tape.watch([y0, t])
                value = loss(y0, t, method=method, gradient=mode, max_steps=3000, **options)
            return tape.gradient(value, [y0, weights, t])

        return [g.numpy() for g in grads(y0, t)]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-11)


def test_an_xla_solve_traced_without_a_tape_is_still_differentiable():
    """Traced for a forward pass, a jit-compiled checkpointed solve keeps no trail of max_steps slots;
    an outer tape that differentiates it later gets the same gradient: its backward pass first
    repeats the solve to record the steps."""
    weights, y0, t, loss = problem()
    options = {"method": "dopri5", "rtol": 1e-9, "atol": 1e-10}
    compiled = tf.function(lambda y0, t: loss(y0, t, gradient="checkpoint", **options), jit_compile=True)
    compiled(y0, t)
    with tf.GradientTape() as tape:
        tape.watch([y0, t])
        value = compiled(y0, t)
    assert compiled.experimental_get_tracing_count() == 1  # the tape reused the trace made without it
    expected = gradients(loss, weights, y0, t, gradient="direct", **options)
    for a, b in zip(expected, tape.gradient(value, [y0, weights, t])):
        np.testing.assert_allclose(b.numpy(), a, rtol=1e-9, atol=1e-11)


def test_seminorm_saves_backward_evaluations_and_stats_report_them():
    weights, y0, t, _ = problem()
    counts = {}
    for seminorm in (True, False):
        with tf.GradientTape() as tape:
            ys, stats = odeint(lambda t, y: tf.tanh(tf.linalg.matvec(weights, y)), y0, t, rtol=1e-8, atol=1e-10,
                               gradient="adjoint", adjoint_seminorm=seminorm, return_stats=True)
            value = tf.reduce_sum(ys ** 2)
        tape.gradient(value, weights)
        counts[seminorm] = int(stats["backward_nfe"].numpy())
    assert 0 < counts[True] < counts[False]


def test_adjoint_options():
    weights, y0, t, loss = problem()
    reference = gradients(loss, weights, y0, t, method="dopri5", rtol=1e-10, atol=1e-12)
    other = gradients(loss, weights, y0, t, method="dopri5", rtol=1e-10, atol=1e-12, gradient="adjoint",
                      adjoint_method="tsit5", adjoint_rtol=1e-11, adjoint_atol=1e-13)
    for a, b in zip(reference, other):
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="adjoint_rtol only apply to gradient='adjoint'"):
        odeint(lambda t, y: -y, y0, t, adjoint_rtol=1e-3)
    with pytest.raises(ValueError, match="adjoint_method 'rk4' takes fixed steps"):
        odeint(lambda t, y: -y, y0, t, gradient="adjoint", adjoint_method="rk4")


@pytest.mark.parametrize("jit", [False, True])
def test_checkpoint_and_adjoint_with_keras_weights_and_nested_float32_state(jit):
    """Every mode against an independent reference: the same network in float64 at tight tolerances."""
    layers = {}
    for dtype in (tf.float32, tf.float64):
        layers[dtype] = keras.layers.Dense(3, activation="tanh", dtype=dtype.name,
                                           kernel_initializer=keras.initializers.GlorotUniform(0))
        layers[dtype].build((None, 3))
    layers[tf.float64].set_weights(layers[tf.float32].get_weights())
    start = {"a": np.random.default_rng(0).normal(size=(4, 3)), "b": np.zeros([4, 3])}
    times = [0.0, 0.5, 1.0]

    def grads(mode, jit, dtype=tf.float32, rtol=1e-5, atol=1e-6):
        layer = layers[dtype]

        def func(t, y):
            return {"a": layer(y["a"]) - 0.1 * y["b"], "b": y["a"]}

        def run(state, t):
            with tf.GradientTape() as tape:
                tape.watch([state, t])
                ys = odeint(func, state, t, gradient=mode, rtol=rtol, atol=atol, max_steps=1000)
                value = tf.reduce_sum(ys["a"] ** 2) + tf.reduce_sum(ys["b"])
            return tape.gradient(value, [state, t] + layer.trainable_variables)

        state = {key: tf.constant(value, dtype) for key, value in start.items()}
        return [g.numpy().astype(np.float64) for g in
                tf.nest.flatten(tf.function(run, jit_compile=jit)(state, tf.constant(times, dtype)))]

    reference = grads("direct", False, tf.float64, rtol=1e-10, atol=1e-12)
    for mode in GRADIENT_MODES:  # up to 5e-5 off at rtol=1e-5 (the discrete solve's own error)
        for a, b in zip(reference, grads(mode, jit)):
            np.testing.assert_allclose(b, a, rtol=2e-4, atol=2e-4)


class _ODELayer(keras.layers.Layer):
    """A minimal neural-ODE layer for the fit test (the library's ODEBlock is tested on its own)."""

    def __init__(self, gradient, **kwargs):
        super().__init__(**kwargs)
        self.gradient = gradient
        self.dynamics = keras.layers.Dense(2, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(1),
                                           bias_initializer="zeros")

    def build(self, input_shape):
        self.dynamics.build(input_shape)

    def call(self, x):
        return odeint(lambda t, y: self.dynamics(y), x, [0.0, 1.0], gradient=self.gradient, rtol=1e-6,
                      atol=1e-8)[-1]


@pytest.mark.parametrize("jit", [False, True])
def test_keras_fit_converges_to_the_same_loss_in_every_mode(jit):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype("float32")
    target = (x @ np.array([[0.0, 1.0], [-1.0, 0.0]], "float32")) * 0.8  # a rotation-like map

    def train(mode):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((2,))
        model = keras.Model(inputs, _ODELayer(mode)(inputs))
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", jit_compile=jit)
        history = model.fit(x, target, batch_size=64, epochs=30, verbose=0, shuffle=False)
        return history.history["loss"]

    losses = {mode: train(mode) for mode in GRADIENT_MODES}
    assert losses["direct"][-1] < 0.25 * losses["direct"][0]  # it learns
    np.testing.assert_allclose(losses["checkpoint"], losses["direct"], rtol=1e-4)
    np.testing.assert_allclose(losses["adjoint"][-1], losses["direct"][-1], rtol=2e-2)


_SAVED_MODEL_GRADIENTS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    module = tf.saved_model.load(sys.argv[1])
    y0 = tf.constant([1.0, -0.5], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(y0)
        value = module.loss(y0)
    grads = tape.gradient(value, [y0, module.weights])
    print(json.dumps([g.numpy().tolist() for g in grads]))
""")


@pytest.mark.slow
@pytest.mark.parametrize("mode", GRADIENT_MODES)
def test_saved_model_gradients_in_a_fresh_process(mode, tmp_path):
    weights = tf.Variable([[-0.3, 1.1], [-0.9, -0.2]], dtype=tf.float64)
    t = tf.constant([0.0, 0.7, 2.0], tf.float64)
    module = tf.Module()
    module.weights = weights

    @tf.function(input_signature=[tf.TensorSpec([2], tf.float64)])
    def loss(y0):
        ys = odeint(lambda t, y: tf.tanh(tf.linalg.matvec(weights, y)), y0, t, gradient=mode, rtol=1e-9,
                    atol=1e-10)
        return tf.reduce_sum(ys ** 2)

    module.loss = loss
    y0 = tf.constant([1.0, -0.5], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(y0)
        value = module.loss(y0)
    expected = [g.numpy() for g in tape.gradient(value, [y0, weights])]
    tf.saved_model.save(module, str(tmp_path / "model"))
    # A fresh interpreter that never imports odezoo: the gradient must live in the SavedModel.
    completed = subprocess.run([sys.executable, "-c", _SAVED_MODEL_GRADIENTS, str(tmp_path / "model")],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    for a, b in zip(expected, loaded):
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-12, atol=1e-14)

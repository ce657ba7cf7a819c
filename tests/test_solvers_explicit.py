"""zoo.solvers explicit methods against closed forms, scipy and finite differences."""

import importlib
import logging

import numpy as np
import pytest
import tensorflow as tf
from scipy.integrate import solve_ivp

from nonstiff_problems import problems
from finite_differences import central_difference
from zoo.solvers import METHODS, odeint

odeint_module = importlib.import_module("zoo.solvers.odeint")  # zoo.solvers.odeint names the function

ADAPTIVE = ["dopri5", "tsit5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun"]
FIXED = ["euler", "midpoint", "heun", "rk4"]
ORDER = {"dopri5": 5, "tsit5": 5, "dopri8": 8, "bosh3": 3, "fehlberg2": 2, "adaptive_heun": 2,
         "euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}
# The order of each method's dense output (Hermite cubic where a method has no interpolant of its own).
# Read between steps, the error is that of the interpolant or of the method, whichever is lower.
DENSE_ORDER = {"dopri5": 4, "tsit5": 4, "dopri8": 7, "bosh3": 3, "fehlberg2": 2, "adaptive_heun": 2,
               "euler": 1, "midpoint": 2, "heun": 2, "rk4": 3}
SCIPY_PEER = {"dopri5": "RK45", "dopri8": "DOP853", "bosh3": "RK23", "tsit5": "RK45"}


def exp_sin(t, y):
    return y * tf.cos(t)


def exp_sin_exact(t):
    return np.exp(np.sin(t))


def test_methods_lists_every_explicit_method():
    assert set(ADAPTIVE + FIXED) <= set(METHODS)


def measured_order(method, steps, offset=0.0):
    """Slope of log(error) against log(h) with fixed steps on y' = y cos t, y(0) = 1 over [0, 2].

    With ``offset`` the error is read at times ``offset`` of the way into steps (dense output)."""
    errors = []
    for n in steps:
        h = 2.0 / n
        t_out = np.array([0.0, 2.0]) if offset == 0 else np.concatenate([[0.0], (np.arange(n) + offset) * h, [2.0]])
        ys = odeint(exp_sin, tf.constant([1.0], tf.float64), t_out, method=method, step_size=h)
        errors.append(np.max(np.abs(ys.numpy()[1:, 0] - exp_sin_exact(t_out[1:]))))
    slopes = np.diff(np.log(errors)) / np.diff(np.log(2.0 / np.array(steps)))
    return slopes, errors


@pytest.mark.parametrize("method", ADAPTIVE + FIXED)
def test_convergence_order(method):
    steps = {8: [4, 8, 16], 5: [16, 32, 64]}.get(ORDER[method], [32, 64, 128])
    slopes, errors = measured_order(method, steps)
    assert errors[-1] < errors[0]
    # Tsit5 approaches its order from above at these steps (its error constant changes sign).
    assert slopes[-1] == pytest.approx(ORDER[method], abs=0.5 if method == "tsit5" else 0.35), (slopes, errors)


@pytest.mark.parametrize("method", ADAPTIVE + FIXED)
def test_dense_output_order(method):
    steps = {7: [8, 16, 32]}.get(DENSE_ORDER[method], [32, 64, 128])
    slopes, errors = measured_order(method, steps, offset=0.37)
    assert slopes[-1] >= DENSE_ORDER[method] - 0.35, (slopes, errors)


@pytest.fixture(scope="module")
def references():
    return {p.name: solve_ivp(p.np_func, (p.t[0], p.t[-1]), p.y0, method="DOP853", t_eval=p.t,
                              rtol=1e-13, atol=1e-13).y.T for p in problems()}


def scaled_error(ys, reference, rtol, atol):
    return np.max(np.abs(ys - reference) / (atol + rtol * np.abs(reference)))


@pytest.mark.parametrize("method", ["dopri5", "tsit5", "dopri8", "bosh3"])
@pytest.mark.parametrize("rtol", [1e-4, 1e-7, 1e-10])
def test_adaptive_accuracy_and_work_match_scipy(method, rtol, references):
    """Error no worse than scipy's same-family method at the same tolerance (a tolerance promises no
    more than that), and, for the families scipy has, the same work to within 10%."""
    atol = rtol * 1e-2
    for problem in problems():
        ys, stats = odeint(problem.tf_func, tf.constant(problem.y0), problem.t, method=method, rtol=rtol,
                           atol=atol, return_stats=True)
        ours = scaled_error(ys.numpy(), references[problem.name], rtol, atol)
        peer = solve_ivp(problem.np_func, (problem.t[0], problem.t[-1]), problem.y0, method=SCIPY_PEER[method],
                         t_eval=problem.t, rtol=rtol, atol=atol)
        theirs = scaled_error(peer.y.T, references[problem.name], rtol, atol)
        assert ours <= 1.5 * theirs + 1.0, (problem.name, ours, theirs)
        if method != "tsit5":
            assert int(stats["nfe"]) <= 1.10 * peer.nfev, (problem.name, int(stats["nfe"]), peer.nfev)
            assert int(stats["nfe"]) >= 0.90 * peer.nfev, (problem.name, int(stats["nfe"]), peer.nfev)
        assert int(stats["accepted_steps"]) + int(stats["rejected_steps"]) == int(stats["steps"])


@pytest.mark.parametrize("method", ["fehlberg2", "adaptive_heun"])
def test_low_order_adaptive_error_follows_tolerance(method, references):
    for problem in problems():
        errors = []
        for rtol in (1e-4, 1e-6):
            ys = odeint(problem.tf_func, tf.constant(problem.y0), problem.t, method=method, rtol=rtol, atol=rtol)
            errors.append(np.max(np.abs(ys.numpy() - references[problem.name])))
        assert errors[1] < errors[0] / 10, (problem.name, errors)


@pytest.mark.parametrize("method", ["dopri5", "dopri8", "rk4"])
def test_backward_in_time(method):
    t = np.linspace(2.0, -1.0, 7)
    y_start = exp_sin_exact(2.0)
    options = {"step_size": 0.01} if method == "rk4" else {"rtol": 1e-10, "atol": 1e-12}
    ys, stats = odeint(exp_sin, tf.constant([y_start], tf.float64), t, method=method, return_stats=True, **options)
    np.testing.assert_allclose(ys.numpy()[:, 0], exp_sin_exact(t), rtol=1e-8)
    assert int(stats["status"]) == 0


def test_batched_nested_float32_state():
    rates = tf.constant([[0.5], [1.0], [2.0]], tf.float32)
    y0 = {"decay": tf.ones([3, 4], tf.float32), "pair": (tf.constant([[1.0, 0.0]] * 3), tf.zeros([3], tf.float32))}

    def func(t, y):
        x, v = y["pair"][0][:, 0], y["pair"][0][:, 1]
        return {"decay": -rates * y["decay"], "pair": (tf.stack([v, -x], axis=1), tf.ones_like(y["pair"][1]) * t)}

    t = tf.constant([0.0, 0.5, 1.0, 2.0])
    ys = odeint(func, y0, t, rtol=1e-6, atol=1e-7)
    times = t.numpy()
    assert ys["decay"].shape == (4, 3, 4) and ys["decay"].dtype == tf.float32
    np.testing.assert_allclose(ys["decay"].numpy(), np.exp(-rates.numpy()[None, :, :] * times[:, None, None])
                               * np.ones((4, 3, 4)), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(ys["pair"][0].numpy()[:, 1, 0], np.cos(times), atol=1e-5)
    np.testing.assert_allclose(ys["pair"][1].numpy()[:, 2], times ** 2 / 2, atol=1e-5)
    np.testing.assert_array_equal(ys["decay"][0].numpy(), y0["decay"].numpy())


@pytest.mark.parametrize("method,options", [("dopri5", {}), ("tsit5", {}), ("dopri8", {}), ("bosh3", {}),
                                            ("rk4", {"step_size": 0.05})])
def test_xla_equals_eager_and_graph(method, options):
    problem = problems()[1]
    y0, t = tf.constant(problem.y0), tf.constant(problem.t)

    def solve(y0, t):
        return odeint(problem.tf_func, y0, t, method=method, rtol=1e-8, atol=1e-10, return_stats=True, **options)

    eager_ys, eager_stats = solve(y0, t)
    graph_ys, graph_stats = tf.function(solve)(y0, t)
    xla_ys, xla_stats = tf.function(solve, jit_compile=True)(y0, t)
    for stats in (graph_stats, xla_stats):
        assert {k: int(v) for k, v in stats.items()} == {k: int(v) for k, v in eager_stats.items()}
    np.testing.assert_array_equal(graph_ys.numpy(), eager_ys.numpy())
    np.testing.assert_allclose(xla_ys.numpy(), eager_ys.numpy(), rtol=1e-12, atol=1e-14)


# On y' = lam y a Runge-Kutta step multiplies y by its stability polynomial R(lam h): coefficients
# from the constant term up.
STABILITY_POLYNOMIAL = {"euler": [1, 1], "rk4": [1, 1, 1 / 2, 1 / 6, 1 / 24],
                        "dopri5": [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 600]}


@pytest.mark.parametrize("method", sorted(STABILITY_POLYNOMIAL))
def test_fixed_steps_follow_the_stability_polynomial(method):
    """step_size=0.3 on [0, 1]: three full steps and a last one of 0.1 that ends on t[-1], whatever the
    output times in between, so y(1) = R(0.3 lam)^3 R(0.1 lam) exactly (an adaptive method given
    step_size takes fixed steps too)."""
    lam = -1.3

    def stability(z):
        return np.polynomial.polynomial.polyval(z, STABILITY_POLYNOMIAL[method])

    ys, stats = odeint(lambda t, y: lam * y, tf.constant([1.0], tf.float64), [0.0, 0.45, 1.0], method=method,
                       step_size=0.3, return_stats=True)
    assert int(stats["steps"]) == int(stats["accepted_steps"]) == 4
    np.testing.assert_allclose(ys.numpy()[-1, 0], stability(0.3 * lam) ** 3 * stability(0.1 * lam), rtol=1e-14)


def test_one_trace_per_input_signature():
    traces = []

    def func(t, y):
        traces.append(1)
        return -y

    for _ in range(3):
        odeint(func, tf.ones([4], tf.float64), tf.constant([0.0, 1.0], tf.float64))
    first = len(traces)
    odeint(func, tf.ones([5], tf.float64), tf.constant([0.0, 1.0], tf.float64))
    assert first > 0 and len(traces) == 2 * first


def test_an_options_sweep_compiles_each_once_without_retracing_warnings(monkeypatch, caplog):
    """A user sweeping rtol and method in eager mode: every options set is traced once and kept,
    the cache of each func holds its COMPILED_PER_FUNC most recent, and TensorFlow does not warn
    that one function keeps retracing."""
    monkeypatch.setattr(odeint_module, "COMPILED_PER_FUNC", 4)
    traces = []

    def decay(t, y):
        traces.append(1)  # Python runs only while tracing
        return -y

    y0, t = tf.constant([1.0, 2.0], tf.float64), tf.constant([0.0, 1.0], tf.float64)
    sweep = [("dopri5", rtol) for rtol in np.logspace(-3, -10, 8)] + [(m, 1e-6) for m in ("tsit5", "bosh3", "dopri8")]
    with caplog.at_level(logging.WARNING):
        for method, rtol in sweep:
            ys = odeint(decay, y0, t, method=method, rtol=rtol, atol=1e-3 * rtol)
            np.testing.assert_allclose(ys.numpy()[-1], np.exp(-1.0) * y0.numpy(), rtol=100 * rtol)
    assert not [message for message in caplog.messages if "retracing" in message]
    assert len(odeint_module._COMPILED[decay]) == 4
    traced = len(traces)
    odeint(decay, y0, t, method=sweep[-1][0], rtol=sweep[-1][1], atol=1e-3 * sweep[-1][1])
    assert len(traces) == traced  # kept
    odeint(decay, y0, t, method=sweep[0][0], rtol=sweep[0][1], atol=1e-3 * sweep[0][1])
    assert len(traces) > traced  # evicted, traced again


@pytest.mark.parametrize("method,options", [("dopri5", {"rtol": 1e-11, "atol": 1e-12}),
                                            ("dopri8", {"rtol": 1e-11, "atol": 1e-12}),
                                            ("tsit5", {"rtol": 1e-11, "atol": 1e-12}),
                                            ("rk4", {"step_size": 0.01})])
def test_direct_gradients_match_finite_differences(method, options):
    weights = tf.Variable([[-0.3, 1.1], [-0.9, -0.2]], dtype=tf.float64)
    y0 = tf.constant([1.0, -0.5], tf.float64)
    t = tf.constant([0.0, 0.7, 1.3, 2.0], tf.float64)

    def func(t, y):
        return tf.tanh(tf.linalg.matvec(weights, y)) + 0.1 * tf.sin(t)

    def loss(y0, t):
        ys = odeint(func, y0, t, method=method, **options)
        return tf.reduce_sum(ys[1:] * tf.constant([[1.0, -2.0], [0.5, 0.3], [-1.0, 0.7]], tf.float64))

    with tf.GradientTape() as tape:
        tape.watch([y0, t])
        value = loss(y0, t)
    grad_y0, grad_w, grad_t = tape.gradient(value, [y0, weights, t])

    w0 = weights.numpy()
    fd_y0 = central_difference(lambda y: float(loss(tf.constant(y), t)), y0.numpy())
    fd_t = central_difference(lambda s: float(loss(y0, tf.constant(s))), t.numpy())

    def loss_at(w):
        weights.assign(w)
        return float(loss(y0, t))

    fd_w = central_difference(loss_at, w0)
    weights.assign(w0)
    np.testing.assert_allclose(grad_y0.numpy(), fd_y0, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_w.numpy(), fd_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_t.numpy(), fd_t, rtol=1e-5, atol=1e-7)

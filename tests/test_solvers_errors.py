"""Every misuse and every failure of odeint raises a specific error, eagerly and in graphs; under XLA
a failure shows as NaN outputs and a status code."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.solvers import METHODS, SolverError, odeint
from zoo.solvers import status as status_codes

Y0 = tf.constant([1.0, 2.0], tf.float64)
T = tf.constant([0.0, 1.0], tf.float64)


def decay(t, y):
    return -y


def test_unknown_method_lists_methods():
    with pytest.raises(ValueError) as error:
        odeint(decay, Y0, T, method="rk45")
    assert "rk45" in str(error.value) and all(name in str(error.value) for name in METHODS)


def test_unknown_gradient_mode():
    with pytest.raises(ValueError, match="gradient mode 'magic'.*direct"):
        odeint(decay, Y0, T, gradient="magic")


@pytest.mark.parametrize("kwargs,match", [
    ({"rtol": -1.0}, "rtol must be a finite positive"),
    ({"atol": float("nan")}, "atol must be a finite non-negative"),
    ({"max_steps": 0}, "max_steps must be a positive integer"),
    ({"method": "rk4"}, "takes fixed steps; pass step_size"),
    ({"method": "euler", "step_size": 0.0}, "step_size must be a finite positive"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        odeint(decay, Y0, T, **kwargs)


@pytest.mark.parametrize("t", [[0.0, 1.0, 0.5], [0.0, 0.0, 1.0], [1.0, 0.0, 0.5]])
def test_non_monotonic_times(t):
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        odeint(decay, Y0, tf.constant(t, tf.float64))


def test_times_must_be_one_dimensional():
    with pytest.raises(ValueError, match="t must be 1-D"):
        odeint(decay, Y0, tf.constant([[0.0, 1.0]], tf.float64))


def test_non_monotonic_times_in_a_graph_with_unknown_values():
    solve = tf.function(lambda t: odeint(decay, Y0, t),
                        input_signature=[tf.TensorSpec([None], tf.float64)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="strictly increasing or strictly decreasing"):
        solve(tf.constant([0.0, 2.0, 1.0], tf.float64))
    np.testing.assert_allclose(solve(tf.constant([0.0, 1.0], tf.float64)).numpy()[1], np.exp(-1.0) * Y0.numpy(),
                               rtol=1e-5)


def test_mixed_dtypes():
    with pytest.raises(ValueError, match="mixes dtypes.*float32.*float64"):
        odeint(lambda t, y: y, (tf.ones([2], tf.float32), tf.ones([2], tf.float64)), T)


def test_integer_state():
    with pytest.raises(ValueError, match="float32 or float64.*int32"):
        odeint(decay, tf.constant([1, 2]), T)


def test_func_with_wrong_structure():
    with pytest.raises(ValueError, match="must return the structure of y0"):
        odeint(lambda t, y: y["a"], {"a": Y0}, T)


def test_func_with_wrong_shape_names_the_leaf():
    with pytest.raises(ValueError, match=r"func\(t, y\)\['b'\] has shape \(3,\) but y\['b'\] has shape \(2,\)"):
        odeint(lambda t, y: {"a": y["a"], "b": tf.ones([3], tf.float64)}, {"a": Y0, "b": Y0}, T)


def test_func_with_wrong_dtype():
    with pytest.raises(ValueError, match="dtype float32 but y is float64"):
        odeint(lambda t, y: tf.cast(y, tf.float32), Y0, T)


def blow_up(t, y):
    return y ** 2  # y = 1 / (1 - t): infinite at t = 1


def nan_after_half(t, y):
    return tf.where(t > 0.5, tf.constant(np.nan, tf.float64), -y)


def failing_cases():
    return [
        (blow_up, {"method": "dopri5"}, status_codes.STEP_UNDERFLOW, r"step size underflow.* at t=(0\.99|1\.0)"),
        (nan_after_half, {"method": "dopri5"}, status_codes.NON_FINITE, r"non-finite state or derivative at t=0\.[45]"),
        (nan_after_half, {"method": "rk4", "step_size": 0.1}, status_codes.NON_FINITE,
         r"non-finite state or derivative at t=0\.[45]"),
        (decay, {"method": "dopri5", "max_steps": 3, "rtol": 1e-10}, status_codes.MAX_STEPS,
         r"max_steps=3 reached .* after 3 steps"),
    ]


@pytest.mark.parametrize("func,options,code,match", failing_cases())
def test_failures_raise_eagerly(func, options, code, match):
    with pytest.raises(SolverError, match=match) as error:
        odeint(func, tf.constant([1.0], tf.float64), tf.constant([0.0, 2.0], tf.float64), **options)
    assert error.value.status == code


@pytest.mark.parametrize("func,options,code,match", failing_cases())
def test_failures_raise_in_graph_mode(func, options, code, match):
    solve = tf.function(lambda y0: odeint(func, y0, tf.constant([0.0, 2.0], tf.float64), **options))
    with pytest.raises(tf.errors.InvalidArgumentError, match=match.replace(r"\.", "").split(".*")[0][:20]):
        solve(tf.constant([1.0], tf.float64))


@pytest.mark.parametrize("func,options,code,match", failing_cases())
def test_failures_under_xla_give_nan_and_status(func, options, code, match):
    t = tf.constant([0.0, 0.25, 2.0, 3.0], tf.float64)
    solve = tf.function(lambda y0: odeint(func, y0, t, return_stats=True, **options), jit_compile=True)
    ys, stats = solve(tf.constant([1.0], tf.float64))
    assert int(stats["status"]) == code
    assert status_codes.describe(code) != "success"
    assert np.all(np.isnan(ys.numpy()[2:]))
    if code != status_codes.MAX_STEPS:
        assert np.isfinite(ys.numpy()[1]).all()

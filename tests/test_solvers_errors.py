"""Every misuse and every failure of odeint raises a specific error, eagerly and in graphs; under XLA
a failure shows as NaN outputs and a status code."""

import re

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
    ({"first_step": 0.0}, "first_step must be a finite positive number, got 0.0"),
    ({"first_step": -0.1}, "first_step must be a finite positive number, got -0.1"),
    ({"first_step": float("inf")}, "first_step must be a finite positive number, got inf"),
    ({"first_step": "small"}, "first_step must be a number, got 'small'"),
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


def graph_solver():
    """odeint in a graph whose t has a length and values known only when it runs."""
    return tf.function(lambda t: odeint(decay, Y0, t), input_signature=[tf.TensorSpec([None], tf.float64)])


def test_non_monotonic_times_in_a_graph_with_unknown_values():
    solve = graph_solver()
    with pytest.raises(tf.errors.InvalidArgumentError, match="strictly increasing or strictly decreasing"):
        solve(tf.constant([0.0, 2.0, 1.0], tf.float64))
    np.testing.assert_allclose(solve(tf.constant([0.0, 1.0], tf.float64)).numpy()[1], np.exp(-1.0) * Y0.numpy(),
                               rtol=1e-5)


def test_empty_times():
    with pytest.raises(ValueError, match=r"^odeint: t is empty; give at least the initial time\.$"):
        odeint(decay, Y0, tf.zeros([0], tf.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"odeint: t is empty; give at least the initial time"):
        graph_solver()(tf.zeros([0], tf.float64))


@pytest.mark.parametrize("t,where", [([0.0, np.nan, 1.0], r"t\[1\] is nan"), ([0.0, 1.0, np.inf], r"t\[2\] is inf"),
                                     ([-np.inf, 0.0], r"t\[0\] is -inf")])
def test_times_with_nan_or_inf(t, where):
    message = r"t holds NaN or Inf; output times must be finite\."
    with pytest.raises(ValueError, match=message + " " + where + r"\.$"):
        odeint(decay, Y0, tf.constant(t, tf.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message) as error:
        graph_solver()(tf.constant(t, tf.float64))
    assert "strictly increasing" not in str(error.value)


@pytest.mark.parametrize("method", ["dopri5", "radau", "bdf", "rodas5p"])
def test_a_single_time_returns_y0_without_a_step(method):
    """As torchdiffeq and ys[0] = y0 have it: t = [t0] gives [y0], with no step taken."""
    ys, stats = odeint(decay, Y0, [0.5], method=method, return_stats=True)
    np.testing.assert_array_equal(ys.numpy(), [Y0.numpy()])
    assert int(stats["steps"]) == 0 and int(stats["status"]) == status_codes.SUCCESS


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
        (blow_up, {"method": "dopri5"}, status_codes.STEP_UNDERFLOW, "step size underflow",
         r"step size underflow \(h=\d\.\d{3}e-\d+\) at t=(0\.99|1\.0)\d* "),
        (nan_after_half, {"method": "dopri5"}, status_codes.NON_FINITE, "non-finite state or derivative",
         r"non-finite state or derivative at t=0\.[45]"),
        (nan_after_half, {"method": "rk4", "step_size": 0.1}, status_codes.NON_FINITE, "non-finite state or derivative",
         r"non-finite state or derivative at t=0\.[45]"),
        (decay, {"method": "dopri5", "max_steps": 3, "rtol": 1e-10}, status_codes.MAX_STEPS, "max_steps reached",
         r"max_steps=3 reached before the last output time at t=0\.\d+ after 3 steps \(3 accepted, 0 rejected\)"),
    ]


def failure_ids():
    return [f"{func.__name__}-{options['method']}" for func, options, *_ in failing_cases()]


_FAILURE = re.compile(r"odeint failed: [^(]+?(?: \([^)]*\))? at t=(?P<t>\S+) after (?P<steps>\d+) steps "
                      r"\((?P<accepted>\d+) accepted, (?P<rejected>\d+) rejected\); [^.]+\.")


def failure_fields(message):
    """Where a failure message says the solve stopped: t and the step counts."""
    found = _FAILURE.search(message)
    assert found, message
    return dict(t=float(found["t"]), steps=int(found["steps"]), accepted=int(found["accepted"]),
                rejected=int(found["rejected"]))


@pytest.mark.parametrize("func,options,code,description,match", failing_cases(), ids=failure_ids())
def test_failures_raise_eagerly(func, options, code, description, match):
    with pytest.raises(SolverError, match=match) as error:
        odeint(func, tf.constant([1.0], tf.float64), tf.constant([0.0, 2.0], tf.float64), **options)
    assert error.value.status == code
    fields = failure_fields(str(error.value))
    assert fields["accepted"] + fields["rejected"] == fields["steps"]


@pytest.mark.parametrize("func,options,code,description,match", failing_cases(), ids=failure_ids())
def test_failures_raise_in_graph_mode(func, options, code, description, match):
    """The graph's message is the eager one, word for word: the failure, h, t and step counts."""
    y0, t = tf.constant([1.0], tf.float64), tf.constant([0.0, 2.0], tf.float64)
    solve = tf.function(lambda y0: odeint(func, y0, t, **options))
    with pytest.raises(tf.errors.InvalidArgumentError, match=match) as error:
        solve(y0)
    with pytest.raises(SolverError) as eager:
        odeint(func, y0, t, **options)
    graph_message = _FAILURE.search(str(error.value).replace("\\'", "'"))  # an assertion escapes quotes
    assert graph_message is not None and graph_message.group(0) == str(eager.value)


@pytest.mark.parametrize("func,options,code,description,match", failing_cases(), ids=failure_ids())
def test_failures_under_xla_give_nan_and_status(func, options, code, description, match):
    t = tf.constant([0.0, 0.25, 2.0, 3.0], tf.float64)
    solve = tf.function(lambda y0: odeint(func, y0, t, return_stats=True, **options), jit_compile=True)
    ys, stats = solve(tf.constant([1.0], tf.float64))
    assert int(stats["status"]) == code
    assert status_codes.describe(stats["status"]) == description
    assert np.all(np.isnan(ys.numpy()[2:]))
    if code != status_codes.MAX_STEPS:
        assert np.isfinite(ys.numpy()[1]).all()


@pytest.mark.parametrize("method", ["dopri5", "radau", "bdf", "rodas5p"])
def test_first_step_is_the_first_attempted_step(method):
    """Stopped by max_steps=1, the solve reports where its first step ended: t = first_step (and
    that it stopped after exactly one step). With first_step the whole solve stays right (y' = -y:
    y(1) = exp(-1))."""
    y0, t = tf.constant([1.0], tf.float64), tf.constant([0.0, 1.0], tf.float64)
    with pytest.raises(SolverError, match=r"max_steps=1 reached .* after 1 steps \(1 accepted, 0 rejected\)") as error:
        odeint(decay, y0, t, method=method, first_step=1e-3, max_steps=1)
    assert failure_fields(str(error.value))["t"] == 1e-3
    ys = odeint(decay, y0, t, method=method, first_step=1e-3, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ys.numpy()[-1], [np.exp(-1.0)], rtol=1e-6)


def test_first_step_saves_the_initial_step_evaluation():
    """dopri5 evaluates func 6 times a step (FSAL) after f(t0); its automatic first step costs one more."""
    y0, t = tf.constant([1.0], tf.float64), tf.constant([0.0, 1.0], tf.float64)
    _, automatic = odeint(decay, y0, t, return_stats=True)
    _, given = odeint(decay, y0, t, first_step=1e-3, return_stats=True)
    assert int(automatic["nfe"]) == 2 + 6 * int(automatic["steps"])
    assert int(given["nfe"]) == 1 + 6 * int(given["steps"])


@pytest.mark.parametrize("method", ["dopri5", "radau", "bdf"])
def test_max_steps_is_the_exact_limit(method):
    """A solve that takes N steps succeeds with max_steps=N, unchanged, and fails with N - 1."""
    y0, t = tf.constant([1.0], tf.float64), tf.constant([0.0, 1.0], tf.float64)
    ys, stats = odeint(decay, y0, t, method=method, return_stats=True)
    steps = int(stats["steps"])
    np.testing.assert_array_equal(odeint(decay, y0, t, method=method, max_steps=steps).numpy(), ys.numpy())
    with pytest.raises(SolverError, match=rf"max_steps={steps - 1} reached before the last output time at t=\S+ "
                                          rf"after {steps - 1} steps") as error:
        odeint(decay, y0, t, method=method, max_steps=steps - 1)
    assert error.value.status == status_codes.MAX_STEPS

"""Stiff methods against scipy's Radau at rtol=1e-12, closed forms and finite differences."""

import re

import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf
from scipy.integrate import solve_ivp

from stiff_problems import stiff_problems
from finite_differences import central_difference
from zoo.solvers import METHODS, odeint

STIFF = ["radau", "bdf", "rodas5p"]
RTOL = ATOL = 1e-7
# The accuracy tests solve with an atol far below every component's scale (Pollution's smallest
# species peaks at 4e-18), so that the solver controls each component's relative error, and ask of
# each component c (rtol |ref| + rtol scale), scale being its largest |ref| at the output times.
ACCURACY_ATOL = 1e-20
ACCURACY_FACTOR = 100  # c: bdf's global error reaches 50 rtol (Oregonator), the others' 1 rtol


def mixed_errors(ys, reference, rtol, atol):
    """|ys - reference| over rtol |reference| + atol_i, with atol_i = rtol times component i's scale
    (atol where the component stays below it): a small component counts as much as a large one."""
    component_atol = np.maximum(rtol * np.max(np.abs(reference), axis=0), atol)
    return np.abs(ys - reference) / (rtol * np.abs(reference) + component_atol)


def assert_every_component_accurate(ys, reference, rtol, atol):
    errors = mixed_errors(ys, reference, rtol, atol)
    assert errors.max() < ACCURACY_FACTOR, errors.max(axis=0)
    for i in range(reference.shape[1]):  # the measure sees every component: zeros in place of one fail
        zeroed = ys.copy()
        zeroed[:, i] = 0.0
        assert mixed_errors(zeroed, reference, rtol, atol).max() >= ACCURACY_FACTOR, i


def test_stiff_methods_are_listed():
    assert set(STIFF) <= set(METHODS)


@pytest.fixture(scope="module")
def references():
    return {p.name: solve_ivp(p.np_func, (p.t[0], p.t[-1]), p.y0, method="Radau", t_eval=p.t, rtol=1e-12,
                              atol=1e-14).y.T for p in stiff_problems()}


@pytest.mark.parametrize("method", STIFF)
@pytest.mark.parametrize("problem", stiff_problems(), ids=lambda p: p.name)
def test_stiff_problem_accuracy(method, problem, references):
    """Every component within 100 rtol of scipy's Radau at rtol=1e-12, relative to its own scale."""
    ys, stats = odeint(problem.tf_func, tf.constant(problem.y0), problem.t, method=method, rtol=RTOL,
                       atol=ACCURACY_ATOL, return_stats=True)
    assert_every_component_accurate(ys.numpy(), references[problem.name], RTOL, ACCURACY_ATOL)
    assert int(stats["status"]) == 0 and int(stats["jacobian_evals"]) >= 1
    assert int(stats["lu_decompositions"]) >= int(stats["jacobian_evals"])


SCIPY_FAMILY = {"radau": "Radau", "bdf": "BDF"}


@pytest.mark.parametrize("method", [m for m in STIFF if m in SCIPY_FAMILY])
@pytest.mark.parametrize("problem", stiff_problems(), ids=lambda p: p.name)
def test_stiff_work_matches_scipy_family(method, problem):
    """No more than 1.5x the evaluations, Jacobians and factorizations of scipy's same method."""
    _, stats = odeint(problem.tf_func, tf.constant(problem.y0), problem.t, method=method, rtol=RTOL, atol=ATOL,
                      return_stats=True)
    peer = solve_ivp(problem.np_func, (problem.t[0], problem.t[-1]), problem.y0, method=SCIPY_FAMILY[method],
                     t_eval=problem.t, rtol=RTOL, atol=ATOL)
    assert int(stats["nfe"]) <= 1.5 * peer.nfev
    assert int(stats["jacobian_evals"]) <= 1.5 * peer.njev
    assert int(stats["lu_decompositions"]) <= 1.5 * peer.nlu


def linear_stiff_problem(fast_eigenvalue=-1e4):
    """y' = A y with eigenvalues -1 and ``fast_eigenvalue``: the exact solution is expm(A t) y0."""
    vectors = np.array([[1.0, 0.3], [-0.4, 1.0]])
    a = vectors @ np.diag([-1.0, fast_eigenvalue]) @ np.linalg.inv(vectors)
    y0 = np.array([1.0, 2.0])
    return a, y0, lambda t: scipy.linalg.expm(a * t) @ y0


@pytest.mark.parametrize("method,order", [("radau", 5), ("rodas5p", 5)])
def test_convergence_order_on_a_linear_stiff_problem(method, order):
    a, y0, exact = linear_stiff_problem()
    matrix = tf.constant(a)
    errors, steps = [], [10, 20, 40]
    for n in steps:
        ys = odeint(lambda t, y: tf.linalg.matvec(matrix, y), tf.constant(y0), [0.0, 2.0], method=method,
                    step_size=2.0 / n)
        errors.append(np.max(np.abs(ys.numpy()[-1] - exact(2.0))))
    slopes = -np.diff(np.log(errors)) / np.diff(np.log(steps))
    assert slopes[-1] == pytest.approx(order, abs=0.5), (slopes, errors)


def test_bdf_error_follows_tolerance():
    """BDF picks its own steps and order, so its order shows as error proportional to tolerance."""
    a, y0, exact = linear_stiff_problem()
    matrix = tf.constant(a)
    errors = []
    for tol in (1e-5, 1e-8):
        ys = odeint(lambda t, y: tf.linalg.matvec(matrix, y), tf.constant(y0), [0.0, 2.0], method="bdf", rtol=tol,
                    atol=tol)
        errors.append(np.max(np.abs(ys.numpy()[-1] - exact(2.0))))
    assert errors[1] < errors[0] / 100, errors


def test_bdf_rejects_fixed_steps():
    with pytest.raises(ValueError, match="'bdf' chooses its own steps"):
        odeint(lambda t, y: -y, tf.ones([2], tf.float64), [0.0, 1.0], method="bdf", step_size=0.1)


def batched_van_der_pol():
    mu = tf.constant([1.0, 10.0, 100.0, 1000.0], tf.float64)

    def func(t, y):
        return {"x": y["v"], "v": mu * (1 - y["x"] ** 2) * y["v"] - y["x"]}

    y0 = {"x": tf.fill([4], tf.constant(2.0, tf.float64)), "v": tf.zeros([4], tf.float64)}
    return func, y0


@pytest.mark.parametrize("method", STIFF)
def test_block_diagonal_path_equals_dense_path(method):
    func, y0 = batched_van_der_pol()
    t = tf.constant([0.0, 1.0, 3.0], tf.float64)
    dense, dense_stats = odeint(func, y0, t, method=method, rtol=1e-8, atol=1e-8, return_stats=True)
    blocks, block_stats = odeint(func, y0, t, method=method, rtol=1e-8, atol=1e-8, return_stats=True,
                                 independent_batch=True)
    for key in ("x", "v"):
        np.testing.assert_allclose(blocks[key].numpy(), dense[key].numpy(), rtol=1e-10, atol=1e-12)
    assert int(block_stats["nfe"]) == int(dense_stats["nfe"])
    for i, mu in enumerate([1.0, 10.0, 100.0, 1000.0]):
        reference = solve_ivp(lambda t, y: [y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]], (0, 3), [2.0, 0.0],
                              method="Radau", t_eval=[0, 1, 3], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(blocks["x"].numpy()[:, i], reference.y[0], rtol=1e-5, atol=1e-7)


# A forward solve under XLA must neither record a trail nor reserve loop buffers of max_steps slots:
# at this many, any such buffer would be gigabytes, copied at every step.
MAX_STEPS_UNDER_XLA = 10 ** 7


def assert_nothing_sized_by_max_steps(solve, *args):
    """No array in the XLA program of ``solve(*args)`` has a dimension of MAX_STEPS_UNDER_XLA."""
    hlo = solve.experimental_get_compiler_ir(*args)(stage="hlo")
    assert not re.findall(rf"\w+\[{MAX_STEPS_UNDER_XLA}[,\]]", hlo)


@pytest.mark.parametrize("method", STIFF)
def test_stiff_under_xla_equals_eager_at_any_max_steps(method):
    """Traced with no gradient tape (a forward solve), under XLA at max_steps=10**7."""
    func, y0 = batched_van_der_pol()
    t = tf.constant([0.0, 1.0, 3.0], tf.float64)

    def solve(y0, **limits):
        return odeint(func, y0, t, method=method, rtol=1e-8, atol=1e-8, return_stats=True, independent_batch=True,
                      **limits)

    eager, eager_stats = solve(y0)
    under_xla = tf.function(lambda y0: solve(y0, max_steps=MAX_STEPS_UNDER_XLA), jit_compile=True)
    assert_nothing_sized_by_max_steps(under_xla, y0)
    xla, xla_stats = under_xla(y0)
    assert int(xla_stats["nfe"]) == int(eager_stats["nfe"])
    np.testing.assert_allclose(xla["x"].numpy(), eager["x"].numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("gradient", ["direct", "checkpoint"])
def test_explicit_forward_solve_under_xla_at_any_max_steps(gradient):
    """dopri5 as the stiff methods above; checkpoint mode, which records a trail for the backward
    pass, keeps none when no gradient tape is recording. Against the closed form."""
    a, y0, exact = linear_stiff_problem(-3.0)
    matrix = tf.constant(a)
    t = tf.constant([0.0, 0.5, 2.0], tf.float64)

    def linear(s, y):
        return tf.linalg.matvec(matrix, y)

    solve = tf.function(lambda y0: odeint(linear, y0, t, rtol=1e-8, atol=1e-10, gradient=gradient,
                                          max_steps=MAX_STEPS_UNDER_XLA, return_stats=True), jit_compile=True)
    assert_nothing_sized_by_max_steps(solve, tf.constant(y0))
    ys, stats = solve(tf.constant(y0))
    assert int(stats["status"]) == 0
    np.testing.assert_allclose(ys.numpy(), np.stack([exact(s) for s in t.numpy()]), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("method", STIFF)
def test_user_jacobian_matches_autodiff(method):
    problem = stiff_problems()[0]

    def jacobian(t, y):
        y1, y2, y3 = y[0], y[1], y[2]
        zero = tf.zeros_like(y1)
        return tf.stack([tf.stack([-0.04 + zero, 1e4 * y3, 1e4 * y2]),
                         tf.stack([0.04 + zero, -1e4 * y3 - 6e7 * y2, -1e4 * y2]),
                         tf.stack([zero, 6e7 * y2, zero])])

    auto = odeint(problem.tf_func, tf.constant(problem.y0), problem.t, method=method, rtol=1e-8, atol=1e-10)
    given = odeint(problem.tf_func, tf.constant(problem.y0), problem.t, method=method, rtol=1e-8, atol=1e-10,
                   jacobian=jacobian)
    np.testing.assert_allclose(given.numpy(), auto.numpy(), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("method", STIFF)
def test_direct_gradients_through_stiff_methods(method):
    mu = tf.Variable(5.0, dtype=tf.float64)
    y0 = tf.constant([2.0, 0.0], tf.float64)
    t = tf.constant([0.0, 0.5, 1.0], tf.float64)

    def func(t, y):
        return tf.stack([y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]])

    def loss(y0, t):
        ys = odeint(func, y0, t, method=method, rtol=1e-10, atol=1e-10)
        return tf.reduce_sum(ys[1:] * tf.constant([[1.0, 0.1], [-0.5, 0.2]], tf.float64))

    with tf.GradientTape() as tape:
        tape.watch([y0, t])
        value = loss(y0, t)
    grad_y0, grad_mu, grad_t = tape.gradient(value, [y0, mu, t])

    fd_y0 = central_difference(lambda y: float(loss(tf.constant(y), t)), y0.numpy())
    fd_t = central_difference(lambda s: float(loss(y0, tf.constant(s))), t.numpy())

    def loss_at(m):
        mu.assign(float(m[0]))
        return float(loss(y0, t))

    fd_mu = central_difference(loss_at, [5.0])
    mu.assign(5.0)
    np.testing.assert_allclose(grad_y0.numpy(), fd_y0, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose([grad_mu.numpy()], fd_mu, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_t.numpy(), fd_t, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("method", STIFF)
def test_one_component_state_and_end_time_gradient(method):
    """y' = -y: y(t1) = exp(-(t1 - t0)) y0, so dy(t1)/dt1 = -y(t1) and dy(t1)/dt0 = y(t1)."""
    t = tf.constant([0.0, 0.5, 1.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        ys = odeint(lambda s, y: -y, tf.constant([1.0], tf.float64), t, method=method, rtol=1e-10, atol=1e-10)
        end = ys[-1, 0]
    np.testing.assert_allclose(end.numpy(), np.exp(-1.0), rtol=1e-7)
    np.testing.assert_allclose(tape.gradient(end, t).numpy(), [np.exp(-1.0), 0.0, -np.exp(-1.0)], rtol=1e-6,
                               atol=1e-9)


@pytest.mark.parametrize("method", ["radau", "bdf"])
def test_newton_failure_at_minimum_step_names_t_h_and_component(method):
    """y' = -1/y from y = (1, 2): y[0] = sqrt(1 - 2t) reaches its singularity at t = 0.5."""
    from zoo.solvers import SolverError
    from zoo.solvers import status as status_codes

    y0 = tf.constant([1.0, 2.0], tf.float64)
    with pytest.raises(SolverError, match=r"Newton iterations failed at the minimum step size \(h=.*, failing "
                                          r"component y\[0\]\) at t=0\.(49|50)") as error:
        odeint(lambda t, y: -1.0 / y, y0, [0.0, 2.0], method=method)
    assert error.value.status == status_codes.NEWTON_FAILURE
    graph = tf.function(lambda y0: odeint(lambda t, y: -1.0 / y, y0, [0.0, 2.0], method=method))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Newton iterations failed.*failing component 0"):
        graph(y0)


@pytest.mark.parametrize("method", STIFF)
def test_robertson_to_1e11(method):
    """The long-time Robertson problem at rtol=1e-8 (atol 1e-14 for the tiny second species)."""
    from stiff_problems import robertson

    t = np.array([0.0, 1.0, 1e4, 1e8, 1e11])
    y0 = np.array([1.0, 0.0, 0.0])
    reference = solve_ivp(lambda s, y: robertson(y, np.array), (0.0, 1e11), y0, method="Radau", t_eval=t,
                          rtol=1e-12, atol=1e-20).y.T
    ys = odeint(lambda s, y: robertson(y, tf.stack), tf.constant(y0), t, method=method, rtol=1e-8, atol=1e-14)
    assert_every_component_accurate(ys.numpy(), reference, 1e-8, 1e-14)
    np.testing.assert_allclose(ys.numpy()[-1].sum(), 1.0, rtol=1e-6)  # mass is conserved

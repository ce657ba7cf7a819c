"""Rosenbrock (linearly implicit Runge-Kutta) methods in the W-transformed form of Hairer and
Wanner ("Solving ODEs II", Sec. IV.7), as used by RODAS and Rodas5P.

Each stage solves ``(I / (h gamma) - J) k_i = f(t + c_i h, y + sum_j a_ij k_j) + h d_i f_t
+ sum_j (C_ij / h) k_j`` with one LU factorization per step. The new state is the last stage's
argument plus ``k_s``, and ``k_s`` itself is the error estimate.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from zoo.solvers.controller import mixed_scale, rms_norm
from zoo.solvers.interpolation import _linear_combination
from zoo.solvers.methods.base import Step


@dataclasses.dataclass(frozen=True)
class RosenbrockTableau:
    gamma: float
    a: tuple  # lower-triangular rows, row i with i entries
    c_coupling: tuple  # lower-triangular rows of C
    c: tuple  # stage times
    d: tuple  # time-derivative weights
    dense: tuple  # rows of H: the dense-output vectors as combinations of the stages
    order: int
    error_order: int


class RosenbrockInterpolant:
    """Rodas' dense output: (1 - s) y0 + s (y1 + (1 - s)(k'1 + s (k'2 + s k'3)))."""

    def __init__(self, dense):
        self.dense = dense

    def coefficients(self, step, func):
        del func
        vectors = [_linear_combination(row, step.stages) for row in self.dense]
        return tf.stack([step.y1] + vectors), 0

    @staticmethod
    def evaluate(coefficients, y0, theta):
        y1, k = coefficients[0], coefficients[1:]
        inner = k[-1]
        for j in range(k.shape[0] - 2, -1, -1):
            inner = k[j] + theta * inner
        return (1.0 - theta) * y0 + theta * (y1 + (1.0 - theta) * inner)


class Rosenbrock:
    """A Rosenbrock method: one Jacobian and one LU factorization per attempted step.

    The Jacobian (and d func / d t) at (t, y) is kept across rejected steps, which restart from the
    same point; only the LU factors, which depend on h, are recomputed.
    """

    implicit = True
    adaptive = True
    fsal = False
    controller_beta = 0.02
    stats_keys = ("jacobian_evals", "lu_decompositions")

    def __init__(self, name, tableau):
        self.name = name
        self.tableau = tableau
        self.interpolant = RosenbrockInterpolant(tableau.dense)

    @property
    def order(self):
        return self.tableau.order

    @property
    def error_order(self):
        return self.tableau.error_order

    evaluations_per_step = 0  # counted by the step itself (it evaluates f at every stage)

    def init_cache(self, algebra, t0, y0, f0):
        jacobian_shape = _jacobian_shape(algebra, y0)
        return (tf.zeros(jacobian_shape, y0.dtype), tf.zeros_like(y0), tf.constant(False))

    def step(self, algebra, t0, y0, f0, h, cache):
        """Returns (Step, new cache, evaluations, {stat: count})."""
        tab = self.tableau
        jacobian, time_derivative, current = cache

        def fresh():
            return (tf.ensure_shape(algebra.jacobian(t0, y0), jacobian.shape),
                    tf.ensure_shape(algebra.time_derivative(t0, y0), time_derivative.shape))

        jacobian, time_derivative = tf.cond(current, lambda: (jacobian, time_derivative), fresh)
        factors = algebra.factor(jacobian, 1.0 / (h * tab.gamma))
        stages = []
        evaluations = 0
        y = y0
        for i in range(len(tab.c)):
            if i == 0:
                derivative = f0
            else:
                y = y0 + _linear_combination(tab.a[i], stages)
                derivative = algebra.func(t0 + tab.c[i] * h, y)
                evaluations += 1
            rhs = derivative + (h * tab.d[i]) * time_derivative
            if i > 0:
                rhs += _linear_combination(tab.c_coupling[i], stages) / h
            stages.append(algebra.solve(factors, rhs))
        y1 = y + stages[-1]
        step = Step(t0=t0, h=h, y0=y0, y1=y1, f0=f0, stages=stages)
        counts = {"jacobian_evals": 1 - tf.cast(current, tf.int32), "lu_decompositions": 1}
        return step, (jacobian, time_derivative, tf.constant(True)), evaluations, counts

    @staticmethod
    def after_step(cache, accepted):
        """After an accepted step the Jacobian belongs to the old point; after a rejection it is
        still the Jacobian at the point the next attempt starts from."""
        return cache[0], cache[1], ~accepted

    def error_norm(self, step, rtol, atol, norm=rms_norm):
        return norm(step.stages[-1] / mixed_scale(step.y0, step.y1, rtol, atol))


def _jacobian_shape(algebra, y0):
    size = tf.shape(y0)[0]
    if algebra.batch is None:
        return tf.stack([size, size])
    n = size // algebra.batch
    return tf.stack([algebra.batch, n, n])


def lower_rows(matrix):
    """Strictly lower-triangular rows of a square NumPy matrix as tuples."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return tuple(tuple(matrix[i, :i]) for i in range(matrix.shape[0]))

"""The generic explicit Runge-Kutta step that runs every tableau."""

import dataclasses

import tensorflow as tf

from zoo.solvers.controller import mixed_scale, rms_norm
from zoo.solvers.interpolation import _linear_combination


@dataclasses.dataclass
class Step:
    """One attempted step from (t0, y0) to t0 + h, with the stage derivatives it evaluated."""

    t0: tf.Tensor
    h: tf.Tensor
    y0: tf.Tensor
    y1: tf.Tensor
    f0: tf.Tensor
    stages: list
    f1: tf.Tensor | None = None  # the derivative at (t0 + h, y1), once known


class ExplicitRungeKutta:
    """An explicit Runge-Kutta method: a tableau, its dense output, and the step that runs them.

    ``error_weights_low`` gives DOP853 its second (third-order) error estimator; the error norm then
    follows Hairer's DOP853 rather than the plain RMS norm.
    """

    implicit = False
    stats_keys = ()

    def __init__(self, name, tableau, interpolant, error_weights_low=None, controller_beta=0.02):
        self.name = name
        self.tableau = tableau
        self.interpolant = interpolant
        self.error_weights_low = error_weights_low
        self.controller_beta = controller_beta

    def __repr__(self):
        return f"ExplicitRungeKutta({self.name!r}, order={self.tableau.order})"

    @property
    def adaptive(self):
        return self.tableau.adaptive

    @property
    def order(self):
        return self.tableau.order

    @property
    def error_order(self):
        return self.tableau.error_order

    @property
    def fsal(self):
        return self.tableau.fsal

    def step(self, func, t0, y0, f0, h):
        """Evaluates the stages after the first (which is f0) and the new state y1.

        Returns a Step; for FSAL methods its f1 is the last stage. Costs stages - 1 evaluations.
        """
        tableau = self.tableau
        stages = [f0]
        last = tableau.stages - 1 if tableau.fsal else tableau.stages
        for i in range(1, last):
            y = y0 + h * _linear_combination(tableau.a[i], stages)
            stages.append(func(t0 + tableau.c[i] * h, y))
        y1 = y0 + h * _linear_combination(tableau.b, stages)
        step = Step(t0=t0, h=h, y0=y0, y1=y1, f0=f0, stages=stages)
        if tableau.fsal:
            step.f1 = func(t0 + h, y1)
            stages.append(step.f1)
        return step

    @property
    def evaluations_per_step(self):
        return self.tableau.stages - 1

    def error_norm(self, step, rtol, atol, norm=rms_norm):
        """The scaled local error: below 1 means the step meets the tolerance."""
        scale = mixed_scale(step.y0, step.y1, rtol, atol)
        error = _linear_combination(self.tableau.b_error, step.stages) / scale
        if self.error_weights_low is None:
            return tf.abs(step.h) * norm(error)
        # Hairer's |h| sum(e^2) / sqrt(N (sum(e^2) + 0.01 sum(l^2))), written with RMS norms.
        high_sq = tf.square(norm(error))
        low_sq = tf.square(norm(_linear_combination(self.error_weights_low, step.stages) / scale))
        denominator = tf.sqrt(high_sq + 0.01 * low_sq)
        safe = tf.where(denominator > 0, denominator, tf.ones_like(denominator))
        return tf.where(denominator > 0, tf.abs(step.h) * high_sq / safe, tf.zeros_like(denominator))

"""Dense output: each method's own interpolant over an accepted step.

An interpolant turns one accepted step into coefficients (``coefficients``), then evaluates them at
``theta = (t_out - t0) / h`` in [0, 1] (``evaluate``). Output times are reached this way, never by
shortening steps, so the solver does the same work whatever the output times are.
"""

import numpy as np
import tensorflow as tf


def _linear_combination(weights, vectors):
    """sum_i weights[i] * vectors[i], skipping zero weights (Python floats)."""
    terms = [w * v for w, v in zip(weights, vectors) if w != 0.0]
    if not terms:
        return tf.zeros_like(vectors[0])
    return terms[0] if len(terms) == 1 else tf.add_n(terms)


class PolynomialInterpolant:
    """y(t0 + theta h) = y0 + h sum_i k_i sum_j weights[i][j] theta^(j+1), over the step's stages."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.float64)

    def coefficients(self, step, func):
        del func
        columns = self.weights.T  # [degree, stages]
        powers = [step.h * _linear_combination(row, step.stages) for row in columns]
        return tf.stack(powers), 0

    @staticmethod
    def evaluate(coefficients, y0, theta):
        return y0 + theta * _horner(coefficients, theta)


class HermiteInterpolant:
    """The cubic Hermite interpolant through (y0, f0) and (y1, f1); third-order accurate."""

    def coefficients(self, step, func):
        del func
        delta = step.y1 - step.y0
        hf0, hf1 = step.h * step.f0, step.h * step.f1
        return tf.stack([hf0, 3.0 * delta - 2.0 * hf0 - hf1, hf0 + hf1 - 2.0 * delta]), 0

    evaluate = staticmethod(PolynomialInterpolant.evaluate)


class Dop853Interpolant:
    """DOP853's seventh-order dense output (Hairer's CONTD8): three extra stages, then seven vectors
    combined in the alternating theta / (1 - theta) form."""

    def __init__(self, c_extra, a_extra, dense_rows):
        self.c_extra = tuple(c_extra)
        self.a_extra = tuple(tuple(row) for row in a_extra)
        self.dense_rows = tuple(tuple(row) for row in dense_rows)

    def coefficients(self, step, func):
        stages = list(step.stages)
        for c, row in zip(self.c_extra, self.a_extra):
            y = step.y0 + step.h * _linear_combination(row, stages)
            stages.append(func(step.t0 + c * step.h, y))
        delta = step.y1 - step.y0
        hf0 = step.h * step.f0
        vectors = [delta, hf0 - delta, 2.0 * delta - step.h * (step.f1 + step.f0)]
        vectors += [step.h * _linear_combination(row, stages) for row in self.dense_rows]
        return tf.stack(vectors), len(self.c_extra)

    @staticmethod
    def evaluate(coefficients, y0, theta):
        count = coefficients.shape[0]
        value = tf.zeros_like(y0)
        for i in range(count):
            value = (value + coefficients[count - 1 - i]) * (theta if i % 2 == 0 else 1.0 - theta)
        return y0 + value


def _horner(coefficients, theta):
    """sum_j coefficients[j] theta^j."""
    count = coefficients.shape[0]
    value = coefficients[count - 1]
    for j in range(count - 2, -1, -1):
        value = value * theta + coefficients[j]
    return value

"""Non-stiff test problems, written once for TensorFlow and once for NumPy (the scipy reference)."""

import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class Problem:
    name: str
    tf_func: object
    np_func: object
    y0: np.ndarray
    t: np.ndarray


def _linear_chain_matrix(n=10):
    # A damped chain: each species decays into the next, with a weak coupling back.
    a = -np.eye(n) * np.linspace(0.5, 2.0, n)
    a += np.diag(np.full(n - 1, 0.4), k=-1) + np.diag(np.full(n - 1, 0.1), k=1)
    return a


_CHAIN = _linear_chain_matrix()


def problems():
    chain = tf.constant(_CHAIN)
    return [
        Problem("exponential_decay", lambda t, y: -0.7 * y, lambda t, y: -0.7 * y,
                np.array([1.0, 2.0, -3.0]), np.linspace(0.0, 5.0, 11)),
        Problem("lotka_volterra",
                lambda t, y: tf.stack([1.5 * y[0] - y[0] * y[1], -3.0 * y[1] + y[0] * y[1]]),
                lambda t, y: np.array([1.5 * y[0] - y[0] * y[1], -3.0 * y[1] + y[0] * y[1]]),
                np.array([1.0, 1.0]), np.linspace(0.0, 10.0, 21)),
        Problem("kepler_orbit", _kepler_tf, _kepler_np,
                np.array([1.0 - 0.6, 0.0, 0.0, np.sqrt((1 + 0.6) / (1 - 0.6))]), np.linspace(0.0, 2 * np.pi, 9)),
        Problem("linear_chain", lambda t, y: tf.linalg.matvec(chain, y), lambda t, y: _CHAIN @ y,
                np.linspace(1.0, -1.0, 10), np.linspace(0.0, 4.0, 9)),
        Problem("van_der_pol",
                lambda t, y: tf.stack([y[1], (1 - y[0] ** 2) * y[1] - y[0]]),
                lambda t, y: np.array([y[1], (1 - y[0] ** 2) * y[1] - y[0]]),
                np.array([2.0, 0.0]), np.linspace(0.0, 10.0, 11)),
    ]


def _kepler_tf(t, y):
    r3 = (y[0] ** 2 + y[1] ** 2) ** 1.5
    return tf.stack([y[2], y[3], -y[0] / r3, -y[1] / r3])


def _kepler_np(t, y):
    r3 = (y[0] ** 2 + y[1] ** 2) ** 1.5
    return np.array([y[2], y[3], -y[0] / r3, -y[1] / r3])

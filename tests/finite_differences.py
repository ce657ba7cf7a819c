"""Central finite differences: the independent reference for gradient tests."""

import numpy as np


def central_difference(fn, x, eps=1e-6):
    """d fn / d x at x, for a scalar fn of an array, by central differences with step eps."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (fn(x + step) - fn(x - step)) / (2 * eps)
    return grad

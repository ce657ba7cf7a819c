"""The custom-gradient wrapper shared by the gradient modes that compute their own backward pass
(checkpoint and adjoint)."""

import tensorflow as tf


def with_backward_pass(run, backward, on_backward=None):
    """Solves with ``run(y0, t)`` -> (ys, stats, where) and gives ys the gradient
    ``backward(y0, t, ys, trail, g_ys, variables)`` -> ((grad_y0, grad_t), grad_vars, nfe), where
    ``trail`` is what the run recorded (``where["trail"]``, or None). ``on_backward``, when given,
    is called with the backward pass's evaluations and returns the op that records them.

    Returns ``solve(y0, t)`` -> (ys, stats, where)."""

    def solve_outer(y0, t):
        side = {}

        @tf.custom_gradient
        def solve(y0, t):
            ys, stats, where = run(y0, t)
            trail = where.pop("trail", None)
            side["stats"], side["where"] = stats, where

            def gradient(g_ys, variables=None):
                grads, grad_vars, nfe = backward(y0, t, ys, trail, g_ys, list(variables or []))
                if on_backward is not None:
                    with tf.control_dependencies([on_backward(nfe)]):
                        grads = tf.nest.map_structure(tf.identity, grads)
                return grads, grad_vars

            return ys, gradient

        ys = solve(y0, t)
        return ys, side["stats"], side["where"]

    return solve_outer

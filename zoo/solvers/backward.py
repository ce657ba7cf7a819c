"""The custom-gradient wrapper shared by the gradient modes that compute their own backward pass
(checkpoint and adjoint)."""

import tensorflow as tf
from tensorflow.python.eager import record as tape_record

from zoo.solvers.loop import in_xla_context


def with_backward_pass(run, backward, on_backward=None, needs_trail=True):
    """Solves with ``run(y0, t, record)`` -> (ys, stats, where) and gives ys the gradient
    ``backward(y0, t, ys, trail, g_ys, variables)`` -> ((grad_y0, grad_t), grad_vars, nfe), where
    ``trail`` is what a run with ``record=True`` recorded (``where["trail"]``), or None when
    ``needs_trail`` is false. ``on_backward``, when given, is called with the backward pass's
    evaluations and returns the op that records them.

    Under XLA a trail has ``max_steps`` fixed slots, so a solve traced where no gradient tape is
    recording (a forward-only call, say) runs without one, and its backward pass, if one is ever
    asked for, first repeats the solve to record it (those evaluations count as the backward pass's).

    Returns ``solve(y0, t)`` -> (ys, stats, where)."""

    def solve_outer(y0, t):
        side = {}
        record_forward = needs_trail and (not in_xla_context() or tape_record.could_possibly_record())

        @tf.custom_gradient
        def solve(y0, t):
            ys, stats, where = run(y0, t, record_forward)
            trail = where.pop("trail", None)
            side["stats"], side["where"] = stats, where

            def gradient(g_ys, variables=None):
                trail_now, repeated_nfe = trail, 0
                if needs_trail and trail_now is None:
                    _, repeated_stats, repeated_where = run(y0, t, True)
                    trail_now, repeated_nfe = repeated_where["trail"], repeated_stats["nfe"]
                grads, grad_vars, nfe = backward(y0, t, ys, trail_now, g_ys, list(variables or []))
                if on_backward is not None:
                    with tf.control_dependencies([on_backward(nfe + repeated_nfe)]):
                        grads = tf.nest.map_structure(tf.identity, grads)
                return grads, grad_vars

            return ys, gradient

        ys = solve(y0, t)
        return ys, side["stats"], side["where"]

    return solve_outer


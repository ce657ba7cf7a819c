"""Gradient modes other than "direct".

``checkpoint``: the exact gradient of the discrete solve (the same numbers as differentiating
through it) from a forward pass that keeps only each accepted step's start (t, h, y, f). The backward
pass walks the steps in reverse and replays one step at a time under a tape, so memory grows with
steps x state instead of steps x stages x the activations of func.
"""

import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops
from tensorflow.python.ops import control_flow_util


def checkpointed(method, func, y0, t, run, fixed_step=None, algebra=None):
    """Solves with ``run(y0, f0, t, record=True)`` (the integrate call) and returns (ys, stats, where)
    whose gradient with respect to y0, t and the variables func reads is computed by replay."""
    side = {}

    @tf.custom_gradient
    def solve(y0, t):
        f0 = func(t[0], y0)
        ys, stats, where = run(y0, f0, t)
        side["stats"], side["where"] = stats, where
        trail = where.pop("trail")

        def gradient(g_ys, variables=None):
            variables = list(variables or [])
            return replay(method, func, y0, t, trail, g_ys, variables, fixed_step, algebra)

        return ys, gradient

    ys = solve(y0, t)
    return ys, side["stats"], side["where"]


def replay(method, func, y0, t, trail, g_ys, variables, fixed_step, algebra):
    g_ys = tf.where(tf.math.is_finite(g_ys), g_ys, tf.zeros_like(g_ys))
    steps = trail["count"]
    in_xla = control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph())

    def body(n, a_y, a_f, g_t, g_vars):
        with tf.GradientTape(watch_accessed_variables=True) as tape:
            # Step n's start, with its time tied to t[0] (t_n = t[0] + the sum of earlier steps) and, for
            # fixed steps, its last step ending at t[-1], so that gradients reach t as in direct mode.
            y, f = trail["y"][n], trail["f"][n]
            tape.watch([y, f, t])
            t_n = t[0] + (trail["t"][n] - tf.stop_gradient(t[0]))
            h = trail["h"][n]
            if fixed_step is not None:
                h = tf.where(n + 1 >= steps, t[-1] - t_n, h)
            if method.implicit:  # a fresh cache makes the replayed Rosenbrock step form its Jacobian
                step, _, _, _ = method.step(algebra, t_n, y, f, h, method.init_cache(algebra, t_n, y, f))
            else:
                step = method.step(func, t_n, y, f, h)
            f1 = step.f1 if step.f1 is not None else func(t_n + h, step.y1)
            step.f1 = f1
            if in_xla:  # shapes must be static: evaluate at every output time, keep this step's
                indices = tf.range(tf.shape(t)[0])
                mine = (indices >= trail["lo"][n]) & (indices < trail["hi"][n])
                cotangents = tf.where(mine[:, None], g_ys, tf.zeros_like(g_ys))
            else:
                indices = tf.range(trail["lo"][n], trail["hi"][n])
                cotangents = tf.gather(g_ys, indices)
            theta = (tf.gather(t, indices) - t_n) / h
            coefficients, _ = method.interpolant.coefficients(step, func)
            outputs = method.interpolant.evaluate(coefficients, y, theta[:, None])
        grads = tape.gradient([step.y1, f1, outputs], [y, f, t] + variables,
                              output_gradients=[a_y, a_f, cotangents],
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return (n - 1, grads[0], grads[1], g_t + grads[2],
                tuple(total + tf.convert_to_tensor(grad) for total, grad in zip(g_vars, grads[3:])))

    zeros_vars = tuple(tf.zeros_like(v) for v in variables)
    _, a_y, a_f, g_t, g_vars = tf.while_loop(
        lambda n, *_: n >= 0, body,
        (steps - 1, tf.zeros_like(y0), tf.zeros_like(y0), tf.zeros_like(t), zeros_vars))

    # f0 = func(t[0], y0) carried the first step's first stage; y0 is also output 0.
    with tf.GradientTape() as tape:
        tape.watch([y0, t])
        f0 = func(t[0], y0)
    first = tape.gradient(f0, [y0, t] + variables, output_gradients=a_f,
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    grad_y0 = a_y + first[0] + g_ys[0]
    grad_t = g_t + first[1]
    grad_vars = [total + tf.convert_to_tensor(grad) for total, grad in zip(g_vars, first[2:])]
    return (grad_y0, grad_t), grad_vars

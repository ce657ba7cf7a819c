"""``gradient="adjoint"``: the continuous adjoint method.

Chen, Rubanova, Bettencourt and Duvenaud, "Neural Ordinary Differential Equations", NeurIPS 2018
(Sec. 2 and Appendix B): the forward solve keeps only its outputs; the gradient solves the augmented
system (y, a = dL/dy, a_t, a_theta) backwards from t[-1] to t[0], one output interval at a time,
adding each output's cotangent to ``a`` as it passes it. Memory does not grow with the number of steps.

Kidger, Chen and Lyons, "'Hey, that's not an ODE': Faster ODE Adjoints via Seminorms", ICML 2021:
a_t and a_theta are integrals that feed nothing back into the system, so the seminorm leaves them
out of the error norm and the backward solve takes the steps that (y, a) need.

With ``interpolate``, y is read from the cubic Hermite interpolant of the forward pass's accepted
steps instead of being solved backwards alongside ``a``: stable for dynamics that contract forward
(whose backward solve diverges), at the cost of storing each accepted step's (t, y, f).
"""

import tensorflow as tf

from zoo.solvers import status as status_codes
from zoo.solvers.backward import with_backward_pass
from zoo.solvers.controller import rms_norm
from zoo.solvers.loop import in_xla_context, keep_shapes


def adjoint(func, y0, t, forward, backward, *, seminorm, interpolate, max_steps, on_backward=None):
    """Solves with ``forward(y0, t, record)`` and returns (ys, stats, where) whose gradient comes
    from the adjoint solves ``backward(dynamics, state, times, norm)`` (reading y from the trail
    that ``record`` keeps when ``interpolate``).

    ``func`` maps (t, flat y) to flat dy/dt; ``on_backward``, when given, is called with the
    backward pass's evaluations of func and returns the op that records them."""
    return with_backward_pass(
        forward,
        lambda y0, t, ys, trail, g_ys, variables: _backward(func, ys, t, trail, g_ys, variables, backward,
                                                            seminorm, max_steps),
        on_backward, needs_trail=interpolate)(y0, t)


def _backward(func, ys, t, trail, g_ys, variables, backward, seminorm, max_steps):
    dtype = ys.dtype
    size = tf.shape(ys)[1]
    g_ys = tf.where(tf.math.is_finite(g_ys), g_ys, tf.zeros_like(g_ys))
    interpolate = trail is not None
    dense = _HermiteTrail(trail, t) if interpolate else None
    offset = 0 if interpolate else size  # the augmented state is [y (unless interpolated), a, a_t, a_theta]
    shapes = [v.shape for v in variables]

    def dynamics(time, state):
        y = dense(time) if interpolate else state[:size]
        a = state[offset:offset + size]
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([y, time] + variables)
            f = func(time, y)
        grads = tape.gradient(f, [y, time] + variables, output_gradients=-a,
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        parts = ([] if interpolate else [f]) + [grads[0], tf.reshape(grads[1], [1])]
        parts += [tf.reshape(tf.cast(tf.convert_to_tensor(g), dtype), [-1]) for g in grads[2:]]
        return tf.concat(parts, axis=0)

    controlled = offset + size if seminorm else None

    def norm(x):
        return rms_norm(x[..., :controlled]) if controlled is not None else rms_norm(x)

    count = tf.shape(t)[0]
    in_xla = in_xla_context()

    def segment(i, a, a_t, a_theta, time_grads, nfe):
        f_i = func(t[i], ys[i])
        moved = tf.reduce_sum(f_i * g_ys[i])  # dL/dt_i: the output moves with the solution
        time_grads = tf.tensor_scatter_nd_update(time_grads, [[i]], [moved])
        state = tf.concat(([] if interpolate else [ys[i]]) + [a, tf.reshape(a_t - moved, [1]), a_theta], axis=0)
        path, stats, where = backward(dynamics, state, tf.stack([t[i], t[i - 1]]), norm)
        if not in_xla:
            message = status_codes.graph_failure_message(stats["status"], where, stats["steps"],
                                                         stats["accepted_steps"], stats["rejected_steps"], max_steps)
            check = tf.debugging.Assert(tf.equal(stats["status"], status_codes.SUCCESS),
                                        ["the adjoint's backward solve failed:", message])
            with tf.control_dependencies([check]):
                path = tf.identity(path)
        end = path[1]
        return keep_shapes((i - 1, end[offset:offset + size] + g_ys[i - 1], end[offset + size],
                            end[offset + size + 1:], time_grads, nfe + stats["nfe"] + 1),
                           (i, a, a_t, a_theta, time_grads, nfe))

    parameter_count = sum(int(s.num_elements()) for s in shapes)
    _, a, a_t, a_theta, time_grads, nfe = tf.while_loop(
        lambda i, *_: i >= 1, segment,
        (count - 1, g_ys[-1], tf.zeros([], dtype), tf.zeros([parameter_count], dtype), tf.zeros_like(t),
         tf.constant(0, tf.int32)))
    time_grads = tf.tensor_scatter_nd_update(time_grads, [[0]], [a_t])
    grad_vars, start = [], 0
    for variable, shape in zip(variables, shapes):
        grad_vars.append(tf.cast(tf.reshape(a_theta[start:start + shape.num_elements()], shape), variable.dtype))
        start += shape.num_elements()
    return (a, time_grads), grad_vars, nfe


class _HermiteTrail:
    """y(s) from the forward pass's accepted steps: the cubic Hermite interpolant through each step's
    (y, f) at both ends (fourth-order accurate, like the dense output of dopri5)."""

    def __init__(self, trail, t):
        self.trail = trail
        self.direction = tf.sign(t[-1] - t[0])
        self.slots = tf.shape(trail["t"])[0]  # under XLA the trail has unused slots past count

    def __call__(self, s):
        trail, count = self.trail, self.trail["count"]
        started = (tf.range(self.slots) < count) & (self.direction * trail["t"] <= self.direction * s)
        k = tf.clip_by_value(tf.reduce_sum(tf.cast(started, tf.int32)) - 1, 0, tf.maximum(count - 1, 0))
        t_k, h = trail["t"][k], trail["h"][k]
        y_k, f_k = trail["y"][k], trail["f"][k]
        following = tf.minimum(k + 1, self.slots - 1)
        last = k + 1 >= count
        y_next = tf.where(last, trail["final_y"], trail["y"][following])
        f_next = tf.where(last, trail["final_f"], trail["f"][following])
        x = (s - t_k) / h
        h00, h10 = (1 + 2 * x) * (1 - x) ** 2, x * (1 - x) ** 2
        h01, h11 = x * x * (3 - 2 * x), x * x * (x - 1)
        return h00 * y_k + h10 * h * f_k + h01 * y_next + h11 * h * f_next

"""``gradient="checkpoint"``: the exact gradient of the discrete solve from a forward pass that keeps
only what each accepted step started from.

The forward pass records every accepted step's start (its time, step and the state the method
carries from step to step: (y, f) for Runge-Kutta and Rosenbrock methods, y and the converged stages
for Radau, the difference table and the converged correction for BDF). The backward pass walks the
steps in reverse and replays one step at a time under a tape, so memory grows with steps x state
instead of steps x stages x the activations of func. Explicit and Rosenbrock steps replay exactly;
implicit steps restart Newton from their converged solution (see ``RadauIIA.replay``).
"""

import tensorflow as tf

from zoo.solvers.backward import with_backward_pass
from zoo.solvers.loop import in_xla_context
from zoo.solvers.methods.bdf import BDF


def checkpointed(method, func, algebra, y0, t, run, fixed_step, on_backward=None):
    """Solves with ``run(y0, t, record)`` (an integration that keeps its trail when ``record``) and
    returns (ys, stats, where), whose gradient with respect to y0, t and the variables func reads is
    computed by replay.
    ``on_backward``, when given, is called with the backward pass's evaluations (an int32 tensor)
    and returns the op that records them."""
    replay = _replay_for(method)
    return with_backward_pass(
        run,
        lambda y0, t, ys, trail, g_ys, variables: _backward(replay, method, func, algebra, y0, t, trail, g_ys,
                                                            variables, fixed_step),
        on_backward)(y0, t)


def _backward(replay, method, func, algebra, y0, t, trail, g_ys, variables, fixed_step):
    g_ys = tf.where(tf.math.is_finite(g_ys), g_ys, tf.zeros_like(g_ys))
    steps = trail["count"]
    in_xla = in_xla_context()

    def body(n, adjoint, g_t, g_vars, nfe):
        entry = {name: value[n] for name, value in trail.items()
                 if name not in ("count", "final_y", "final_f")}
        with tf.GradientTape(watch_accessed_variables=True) as tape:
            state = replay.start(entry)
            tape.watch(list(state) + [t])
            # Step n's start, with its time tied to t[0] (t_n = t[0] + the sum of earlier steps) and, for
            # fixed steps, its last step ending at t[-1], so that gradients reach t as in direct mode.
            t_n = t[0] + (entry["t"] - tf.stop_gradient(t[0]))
            h = entry["h"]
            if fixed_step:
                h = tf.where(n + 1 >= steps, t[-1] - t_n, h)
            end, dense, evaluations = replay.step(method, func, algebra, entry, state, t_n, h)
            if in_xla:  # shapes must be static: evaluate at every output time, keep this step's
                indices = tf.range(tf.shape(t)[0])
                mine = (indices >= entry["lo"]) & (indices < entry["hi"])
                cotangents = tf.where(mine[:, None], g_ys, tf.zeros_like(g_ys))
            else:
                indices = tf.range(entry["lo"], entry["hi"])
                cotangents = tf.gather(g_ys, indices)
            theta = (tf.gather(t, indices) - t_n) / h
            outputs = dense(theta[:, None])
        size = len(state)
        grads = tape.gradient(list(end) + [outputs], list(state) + [t] + variables,
                              output_gradients=list(adjoint) + [cotangents],
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return (n - 1, tuple(grads[:size]), g_t + grads[size],
                tuple(total + tf.convert_to_tensor(grad) for total, grad in zip(g_vars, grads[size + 1:])),
                nfe + evaluations)

    with tf.GradientTape(watch_accessed_variables=True) as tape:
        tape.watch([y0, t])
        state0, evaluations = replay.initial(func, y0, t, trail)
    zeros_vars = tuple(tf.zeros_like(v) for v in variables)
    _, adjoint, g_t, g_vars, nfe = tf.while_loop(
        lambda n, *_: n >= 0, body,
        (steps - 1, tuple(tf.zeros_like(s) for s in state0), tf.zeros_like(t), zeros_vars,
         tf.constant(evaluations, tf.int32)))

    first = tape.gradient(list(state0), [y0, t] + variables, output_gradients=list(adjoint),
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    grad_y0 = first[0] + g_ys[0]  # y0 is also output 0
    grad_t = g_t + first[1]
    grad_vars = [total + tf.convert_to_tensor(grad) for total, grad in zip(g_vars, first[2:])]
    return (grad_y0, grad_t), grad_vars, nfe


class _RungeKuttaReplay:
    """Explicit Runge-Kutta and Rosenbrock steps: the carried state is (y, f)."""

    @staticmethod
    def start(entry):
        return entry["y"], entry["f"]

    @staticmethod
    def initial(func, y0, t, trail):
        return (y0, func(t[0], y0)), 1

    @staticmethod
    def step(method, func, algebra, entry, state, t_n, h):
        y, f = state
        if method.implicit:  # a fresh cache makes the replayed Rosenbrock step form its Jacobian
            step, _, evaluations, _ = method.step(algebra, t_n, y, f, h, method.init_cache(algebra, t_n, y, f))
        else:
            step = method.step(func, t_n, y, f, h)
            evaluations = method.evaluations_per_step
        if step.f1 is None:
            step.f1 = func(t_n + h, step.y1)
            evaluations += 1
        coefficients, extra = method.interpolant.coefficients(step, func)
        return ((step.y1, step.f1), lambda theta: method.interpolant.evaluate(coefficients, y, theta),
                evaluations + extra)


class _RadauReplay:
    """Radau IIA: the carried state is y; the trail holds each step's converged stages."""

    @staticmethod
    def start(entry):
        return (entry["y"],)

    @staticmethod
    def initial(func, y0, t, trail):
        return (y0,), 0

    @staticmethod
    def step(method, func, algebra, entry, state, t_n, h):
        y1, dense, evaluations = method.replay(algebra, t_n, state[0], h, entry["z"])
        return (y1,), dense, evaluations


class _BDFReplay:
    """BDF: the carried state is the difference table the previous accepted step left."""

    @staticmethod
    def start(entry):
        return (entry["table"],)

    @staticmethod
    def initial(func, y0, t, trail):
        # The first step's table spacing; the padding only serves a solve without steps.
        h_initial = tf.concat([trail["h_table"], tf.ones([1], y0.dtype)], axis=0)[0]
        return (BDF.initial_table(y0, func(t[0], y0), h_initial, tf.sign(t[-1] - t[0])),), 1

    @staticmethod
    def step(method, func, algebra, entry, state, t_n, h):
        table, dense, evaluations = method.replay(algebra, t_n, h, state[0], entry["h_table"], entry["order"],
                                                  entry["d"], entry["h_next"], entry["order_next"])
        return (table,), dense, evaluations


def _replay_for(method):
    if isinstance(method, BDF):
        return _BDFReplay
    if hasattr(method, "replay"):
        return _RadauReplay
    return _RungeKuttaReplay

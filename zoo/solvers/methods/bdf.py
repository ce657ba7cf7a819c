"""Variable-order (1-5), variable-step BDF with the NDF modification (Shampine and Reichelt), as in
scipy's ``BDF``.

Shampine and Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18(1), 1997: the solution is
kept as a table of backward differences that is rescaled when the step changes (quasi-constant step
size), the implicit formula is solved by simplified Newton iterations with a Jacobian that is only
re-evaluated when Newton fails, and the order moves by one when the error estimates of the
neighbouring orders allow a larger step. The interpolant is the backward-difference polynomial.
"""

import numpy as np
import tensorflow as tf

from zoo.solvers import status as status_codes
from zoo.solvers.controller import initial_step, rms_norm
from zoo.solvers.loop import (TimeGrid, min_step_size, newton_tolerance, record_step, run_implicit_loop,
                              start_outputs, start_trail)
from zoo.solvers.outputs import step_holds_output, write_outputs

MAX_ORDER = 5
NEWTON_MAXITER = 4
REPLAY_ITERATIONS = 6
MIN_FACTOR, MAX_FACTOR = 0.2, 10.0
KAPPA = np.array([0, -0.1850, -1 / 9, -0.0823, -0.0415, 0])  # the NDF coefficients
GAMMA = np.hstack((0, np.cumsum(1 / np.arange(1, MAX_ORDER + 1))))
ALPHA = (1 - KAPPA) * GAMMA
ERROR_CONST = KAPPA * GAMMA + 1 / np.arange(1, MAX_ORDER + 2)
ROWS = MAX_ORDER + 3


def _change_matrix(order, factor, dtype):
    """RU of Shampine and Reichelt for the first order+1 differences, identity elsewhere (6 x 6)."""
    i = tf.range(1, MAX_ORDER + 1, dtype=dtype)[:, None]
    j = tf.range(1, MAX_ORDER + 1, dtype=dtype)[None, :]

    def r_matrix(f):
        inner = tf.concat([tf.zeros([MAX_ORDER, 1], dtype), (i - 1 - f * j) / i], axis=1)
        return tf.math.cumprod(tf.concat([tf.ones([1, MAX_ORDER + 1], dtype), inner], axis=0), axis=0)

    index = tf.range(MAX_ORDER + 1)
    block = (index[:, None] <= order) & (index[None, :] <= order)
    r = tf.where(block, r_matrix(factor), 0.0)
    u = tf.where(block, r_matrix(tf.constant(1.0, dtype)), 0.0)
    outside = tf.cast(tf.linalg.diag(tf.cast(index > order, dtype)), dtype)
    return tf.linalg.matmul(r, u) + outside


def change_differences(d, order, factor):
    """Rescales the difference table for a step multiplied by ``factor``."""
    ru = _change_matrix(order, tf.stop_gradient(factor), d.dtype)  # step-size choices are constants to autodiff
    top = tf.linalg.matmul(ru, d[:MAX_ORDER + 1], transpose_a=True)
    return tf.concat([top, d[MAX_ORDER + 1:]], axis=0)


def predict(table, order, h):
    """The predictor (the table's polynomial extrapolated one step), the NDF formula's psi and
    c = h / alpha_order: the step's correction d = y1 - y_predict solves c f(t + h, y_predict + d) = psi + d."""
    dtype = table.dtype
    rows = tf.range(ROWS)
    upto = tf.cast(rows <= order, dtype)[:, None]
    y_predict = tf.reduce_sum(table * upto, axis=0)
    weights = tf.where((rows >= 1) & (rows <= order), tf.pad(tf.constant(GAMMA, dtype), [[0, ROWS - MAX_ORDER - 1]]),
                       0.0)
    alpha = tf.gather(tf.constant(ALPHA, dtype), order)
    psi = tf.linalg.matvec(table, weights, transpose_a=True) / alpha
    return y_predict, psi, h / alpha


def update_table(table, order, d):
    """The difference table after an accepted step whose correction is d."""
    rows = tf.range(ROWS)
    table = tf.tensor_scatter_nd_update(table, [[order + 2]], [d - tf.gather(table, order + 1)])
    table = tf.tensor_scatter_nd_update(table, [[order + 1]], [d])
    summed = tf.cumsum(tf.where(rows[:, None] <= order + 1, table, 0.0), axis=0, reverse=True)
    return tf.where(rows[:, None] <= order, summed, table)


def interpolate(table, order, t_new, h, x, time, h_table):
    """The backward-difference interpolant at time + x h (x a scalar or a column of them), from a
    table of spacing h_table ending at t_new."""
    dtype = table.dtype
    t_out = time + x * h
    m = tf.range(MAX_ORDER, dtype=dtype)
    ratios = (t_out - (t_new - h_table * m)) / (h_table * (1 + m))
    # A running product, not tf.math.cumprod: its gradient divides by the first ratio, which is
    # exactly zero at the end of the step.
    terms = [ratios[..., 0]]
    for k in range(1, MAX_ORDER):
        terms.append(terms[-1] * ratios[..., k])
    terms = tf.stack(terms, axis=-1) * tf.cast(tf.range(1, MAX_ORDER + 1) <= order, dtype)
    return table[0] + tf.tensordot(terms, table[1:MAX_ORDER + 1], axes=[[-1], [0]])


class BDF:
    """Variable-order NDF/BDF with its own loop (order and step change together)."""

    name = "bdf"
    implicit = True
    adaptive = True
    order = 5
    error_order = 1
    stats_keys = ("jacobian_evals", "lu_decompositions")

    def integrate(self, func, algebra, y0, f0, t, *, rtol, atol, first_step, step_size, max_steps,
                  norm=rms_norm, record=False):
        if step_size is not None:
            raise ValueError("odeint: method 'bdf' chooses its own steps and order; drop step_size, or use "
                             "'radau' or 'rodas5p' for fixed steps.")
        dtype = y0.dtype
        grid = TimeGrid.of(t, dtype)
        t, count, t0, t_end, direction, interval = (grid.t, grid.count, grid.t0, grid.t_end, grid.direction,
                                                    grid.interval)
        newton_tol = newton_tolerance(rtol, dtype)
        error_const = tf.constant(ERROR_CONST, dtype)

        def jacobian(time, y):
            return tf.stop_gradient(algebra.jacobian(time, y))  # the converged step does not depend on J

        nfe = tf.constant(1, tf.int32)
        if first_step is not None:
            h_abs = tf.constant(first_step, dtype)
        else:
            h_abs = tf.stop_gradient(initial_step(func, t0, y0, f0, direction, interval, 1, rtol, atol, norm))
            nfe += 1

        def newton(t_new, y_predict, c, psi, factored, scale):
            def body(k, y, d, f, norm_old, has_rate, converged, stop, finite, worst):
                f = func(t_new, y)
                finite = tf.reduce_all(tf.math.is_finite(f))
                dy = algebra.solve(factored, (c * f - psi - d) / c)
                dy_norm = norm(dy / scale)
                rate = dy_norm / tf.where(has_rate, norm_old, tf.ones_like(norm_old))
                remaining = tf.cast(NEWTON_MAXITER - k, dtype)
                diverging = (has_rate & ((rate >= 1) | (rate ** remaining / (1 - rate) * dy_norm > newton_tol))) | ~finite
                y_next = tf.where(diverging, y, y + dy)
                d_next = tf.where(diverging, d, d + dy)
                done = ~diverging & ((dy_norm == 0) | (has_rate & (rate / (1 - rate) * dy_norm < newton_tol)))
                worst = tf.cast(tf.argmax(tf.abs(dy) / scale), tf.int32)
                return k + 1, y_next, d_next, f, dy_norm, tf.constant(True), done, diverging | done, finite, worst

            def more(k, y, d, f, norm_old, has_rate, converged, stop, finite, worst):
                return (k < NEWTON_MAXITER) & ~stop

            zero = tf.constant(0.0, dtype)
            k, y, d, f, _, _, converged, _, finite, worst = tf.while_loop(
                more, body, maximum_iterations=NEWTON_MAXITER,
                loop_vars=(tf.constant(0), y_predict, tf.zeros_like(y_predict), tf.zeros_like(y_predict), zero,
                           tf.constant(False), tf.constant(False), tf.constant(False), tf.constant(True),
                           tf.constant(0)))
            return converged, k, y, d, f, finite, worst

        j0 = jacobian(t0, y0)
        differences = self.initial_table(y0, f0, h_abs, direction)
        zero_i = tf.constant(0, tf.int32)
        ys, status = start_outputs(y0, f0, count)
        loop_vars = dict(
            steps=zero_i, accepted=zero_i, rejected=zero_i, nfe=nfe, jacobian_evals=tf.constant(1), lu=zero_i,
            t=t0, h_abs=h_abs, d=differences, order=tf.constant(1), equal_steps=zero_i, jac=j0,
            factored=algebra.factor(j0, 1.0 / h_abs), lu_valid=tf.constant(False), current_jac=tf.constant(False),
            index=tf.constant(1), ys=ys, status=status, nonfinite=tf.constant(False),
            newton_failed=tf.constant(False), failing_component=tf.constant(-1))

        def body(v):
            v = dict(v)
            time, order, d_table = v["t"], v["order"], v["d"]
            remaining = tf.abs(t_end - time)
            underflow = v["h_abs"] < min_step_size(time, direction)
            clipped = v["h_abs"] > remaining
            d_table = tf.cond(clipped, lambda: change_differences(d_table, order, remaining / v["h_abs"]),
                              lambda: d_table)
            h_abs = tf.stop_gradient(tf.minimum(v["h_abs"], remaining))
            equal_steps = tf.where(clipped, 0, v["equal_steps"])
            lu_valid = v["lu_valid"] & ~clipped
            at_end = ~(h_abs < remaining)
            h = direction * h_abs
            t_new = time + h

            y_predict, psi, c = predict(d_table, order, h)
            scale = atol + rtol * tf.abs(y_predict)

            factored = tf.cond(lu_valid, lambda: v["factored"], lambda: algebra.factor(v["jac"], 1.0 / c))
            lu = v["lu"] + 1 - tf.cast(lu_valid, tf.int32)
            converged, n_iter, y_new, d, f_new, finite, worst = newton(t_new, y_predict, c, psi, factored, scale)
            nfe = v["nfe"] + n_iter
            retry = ~converged & ~v["current_jac"]

            def with_fresh_jacobian():
                jac = jacobian(t_new, y_predict)
                fresh = algebra.factor(jac, 1.0 / c)
                return (jac, fresh) + newton(t_new, y_predict, c, psi, fresh, scale)

            jac, factored, converged, n_iter, y_new, d, f_new, finite, worst = tf.cond(
                retry, with_fresh_jacobian,
                lambda: (v["jac"], factored, converged, n_iter, y_new, d, f_new, finite, worst))
            nfe += tf.where(retry, n_iter, 0)
            jacobian_evals = v["jacobian_evals"] + tf.cast(retry, tf.int32)
            lu += tf.cast(retry, tf.int32)
            current_jac = v["current_jac"] | retry

            safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + tf.cast(n_iter, dtype))
            scale_new = atol + rtol * tf.abs(y_new)
            error_norm = tf.stop_gradient(norm(tf.gather(error_const, order) * d / scale_new))
            order_f = tf.cast(order, dtype)
            accept = converged & (error_norm <= 1) & ~underflow
            shrink = tf.where(converged, tf.maximum(tf.constant(MIN_FACTOR, dtype),
                                                    safety * error_norm ** (-1 / (order_f + 1))),
                              tf.constant(0.5, dtype))

            def rejected():
                return (change_differences(d_table, order, shrink), order, tf.stop_gradient(h_abs * shrink),
                        tf.constant(0), tf.constant(False))

            def accepted():
                table = update_table(d_table, order, d)
                steps_equal = equal_steps + 1
                error_m = tf.where(order > 1, norm(tf.gather(error_const, tf.maximum(order - 1, 0))
                                                       * tf.gather(table, order) / scale_new), float("inf"))
                error_p = tf.where(order < MAX_ORDER,
                                   norm(tf.gather(error_const, tf.minimum(order + 1, MAX_ORDER))
                                            * tf.gather(table, tf.minimum(order + 2, ROWS - 1)) / scale_new),
                                   float("inf"))
                norms = tf.stack([error_m, error_norm, error_p])
                exponents = -1.0 / tf.stack([order_f, order_f + 1, order_f + 2])
                safe = tf.where(norms > 0, norms, tf.ones_like(norms))
                factors = tf.where(norms > 0, safe ** exponents, tf.constant(np.inf, dtype))
                factors = tf.stop_gradient(tf.where(tf.math.is_inf(norms), tf.zeros_like(factors), factors))
                change = steps_equal >= order + 1
                new_order = tf.where(change, order + tf.cast(tf.argmax(factors), tf.int32) - 1, order)
                factor = tf.minimum(tf.constant(MAX_FACTOR, dtype), safety * tf.reduce_max(factors))
                table = tf.cond(change, lambda: change_differences(table, new_order, factor), lambda: table)
                return (table, new_order, tf.stop_gradient(tf.where(change, h_abs * factor, h_abs)),
                        tf.where(change, 0, steps_equal), ~change)

            d_next, order_next, h_next, equal_next, lu_keep = tf.cond(accept, accepted, rejected)

            def dense(x):  # the interpolant is written in the new spacing of the table
                return interpolate(d_next, order_next, t_new, h, x, time, direction * h_next)

            has_output = accept & step_holds_output(t, count, direction, v["index"], t_new, at_end)
            index, ys = tf.cond(has_output,
                                lambda: write_outputs(t, count, direction, v["index"], v["ys"], time, h, t_new,
                                                      at_end, dense),
                                lambda: (v["index"], v["ys"]))
            recorded = {}
            if record:
                entries = dict(t=time, h=h, y=v["y_last"], f=v["f_last"], table=v["d_accepted"],
                               h_table=v["h_accepted"], order=order, d=d, h_next=h_next, order_next=order_next,
                               lo=v["index"], hi=index)
                recorded = dict(trail=record_step(v["trail"], accept, v["accepted"], entries),
                                d_accepted=tf.where(accept, d_next, v["d_accepted"]),
                                h_accepted=tf.where(accept, h_next, v["h_accepted"]),
                                y_last=tf.where(accept, y_new, v["y_last"]), f_last=tf.where(accept, f_new, v["f_last"]))
            status = tf.where(underflow, tf.where(v["nonfinite"], status_codes.NON_FINITE,
                                                  tf.where(v["newton_failed"], status_codes.NEWTON_FAILURE,
                                                           status_codes.STEP_UNDERFLOW)), v["status"])
            steps = v["steps"] + 1
            status = tf.where((status == status_codes.SUCCESS) & (index < count) & (steps >= max_steps),
                              status_codes.MAX_STEPS, status)
            return dict(
                steps=steps, accepted=v["accepted"] + tf.cast(accept, tf.int32),
                rejected=v["rejected"] + tf.cast(~accept, tf.int32), nfe=nfe, jacobian_evals=jacobian_evals, lu=lu,
                t=tf.where(accept, t_new, time), h_abs=h_next, d=d_next, order=order_next, equal_steps=equal_next,
                jac=jac, factored=factored, lu_valid=lu_keep & accept,
                current_jac=tf.where(accept, False, current_jac), index=index, ys=ys, status=status,
                nonfinite=tf.where(accept, False, ~finite), newton_failed=~converged & finite,
                failing_component=tf.where(converged, v["failing_component"], worst), **recorded)

        if record:
            scalar, integer, state = (dtype, []), (tf.int32, []), (dtype, y0.shape)
            fields = dict(t=scalar, h=scalar, y=state, f=state, table=(dtype, differences.shape), h_table=scalar,
                          order=integer,
                          d=state, h_next=scalar, order_next=integer, lo=integer, hi=integer)
            loop_vars.update(trail=start_trail(fields, max_steps), d_accepted=differences, h_accepted=h_abs,
                             y_last=y0, f_last=f0)
        return run_implicit_loop(body, loop_vars, grid, max_steps, dtype)

    @staticmethod
    def initial_table(y0, f0, h_abs, direction):
        size = tf.shape(y0)[0]
        return tf.concat([y0[None], (f0 * h_abs * direction)[None], tf.zeros([ROWS - 2, size], y0.dtype)], axis=0)

    @staticmethod
    def replay(algebra, time, h, table, h_table, order, d, h_next, order_next):
        """The checkpointed gradient's replay of an accepted step from the table the previous accepted
        step left (spacing ``h_table``) and the converged correction ``d``: the table is rescaled to
        this step, Newton iterations restarted from ``d`` with a fresh Jacobian carry the derivatives
        of the converged step, and the table is updated and rescaled for the next step. Returns (the
        next step's table, the dense output, evaluations)."""
        direction = tf.sign(h)
        table = change_differences(table, order, tf.abs(h) / h_table)
        y_predict, psi, c = predict(table, order, h)
        t_new = time + h
        factored = algebra.factor(tf.stop_gradient(algebra.jacobian(t_new, y_predict)), 1.0 / c)
        d = tf.stop_gradient(d)
        for _ in range(REPLAY_ITERATIONS):
            d = d + algebra.solve(factored, (c * algebra.func(t_new, y_predict + d) - psi - d) / c)
        table = change_differences(update_table(table, order, d), order_next, h_next / tf.abs(h))
        return table, lambda x: interpolate(table, order_next, t_new, h, x, time, direction * h_next), REPLAY_ITERATIONS


BDF_METHOD = BDF()

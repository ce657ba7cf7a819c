"""Radau IIA of order 5 (Hairer and Wanner's RADAU5, the algorithm behind scipy's ``Radau``).

Hairer and Wanner, "Solving Ordinary Differential Equations II" (2nd ed., 1996), Sec. IV.8: the
three-stage collocation method solved by simplified Newton iterations on the system transformed by
the eigendecomposition of the Butcher matrix (one real and one complex linear system per iteration),
the third-order embedded error estimate filtered through the real system, Gustafsson's predictive
step-size controller, Jacobian reuse across steps while Newton converges fast, LU reuse while the
step size is unchanged, and the collocation polynomial as dense output (and as the next step's
Newton predictor).
"""

import numpy as np
import tensorflow as tf

from zoo.solvers import status as status_codes
from zoo.solvers.controller import initial_step, mixed_scale, rms_norm
from zoo.solvers.linear_algebra import as_complex
from zoo.solvers.loop import (TimeGrid, min_step_size, newton_tolerance, record_step, run_implicit_loop,
                              start_outputs, start_trail)
from zoo.solvers.outputs import step_holds_output, write_outputs

_S6 = 6 ** 0.5
C = np.array([(4 - _S6) / 10, (4 + _S6) / 10, 1.0])
E = np.array([-13 - 7 * _S6, -13 + 7 * _S6, -1.0]) / 3
# Eigenvalues of the inverse Butcher matrix: one real, one complex-conjugate pair.
MU_REAL = 3 + 3 ** (2 / 3) - 3 ** (1 / 3)
MU_COMPLEX = 3 + 0.5 * (3 ** (1 / 3) - 3 ** (2 / 3)) - 0.5j * (3 ** (5 / 6) + 3 ** (7 / 6))
T = np.array([
    [0.09443876248897524, -0.14125529502095421, 0.03002919410514742],
    [0.25021312296533332, 0.20412935229379994, -0.38294211275726192],
    [1.0, 1.0, 0.0]])
TI = np.array([
    [4.17871859155190428, 0.32768282076106237, 0.52337644549944951],
    [-4.17871859155190428, -0.32768282076106237, 0.47662355450055044],
    [0.50287263494578682, -2.57192694985560522, 0.59603920482822492]])
# The collocation polynomial y(t0 + x h) = y0 + Z^T P [x, x^2, x^3].
P = np.array([
    [13 / 3 + 7 * _S6 / 3, -23 / 3 - 22 * _S6 / 3, 10 / 3 + 5 * _S6],
    [13 / 3 - 7 * _S6 / 3, -23 / 3 + 22 * _S6 / 3, 10 / 3 - 5 * _S6],
    [1 / 3, -8 / 3, 10 / 3]])
NEWTON_MAXITER = 6
REPLAY_ITERATIONS = 6
MIN_FACTOR, MAX_FACTOR = 0.2, 10.0


def _complex_dtype(dtype):
    return tf.complex128 if dtype == tf.float64 else tf.complex64


class _Stages:
    """The transformed stage equations of one dtype: their linear systems and Newton increment."""

    def __init__(self, algebra, dtype):
        self.algebra = algebra
        self.dtype, self.cdtype = dtype, _complex_dtype(dtype)
        self.c, self.e, self.p = (tf.constant(m, dtype) for m in (C, E, P))
        self.t_matrix, self.ti_matrix = tf.constant(T, dtype), tf.constant(TI, dtype)
        self.ti_complex = tf.complex(self.ti_matrix[1], self.ti_matrix[2])

    def factor(self, jacobian, h):
        """LU factors of (mu_real / h - J) and (mu_complex / h - J)."""
        real = self.algebra.factor(jacobian, tf.cast(MU_REAL, self.dtype) / h)
        complex_ = self.algebra.factor(jacobian, tf.cast(MU_COMPLEX, self.cdtype) / as_complex(h))
        return real, complex_

    def newton_increment(self, time, y, h, w, z, factored):
        """One simplified Newton iteration: the increment of the transformed stages w = TI z, and
        whether the three stage derivatives were finite."""
        real, complex_ = factored
        f = tf.stack([self.algebra.func(time + self.c[i] * h, y + z[i]) for i in range(3)])
        f_real = tf.linalg.matvec(tf.transpose(f), self.ti_matrix[0]) - MU_REAL / h * w[0]
        f_complex = (tf.linalg.matvec(as_complex(tf.transpose(f)), self.ti_complex)
                     - tf.cast(MU_COMPLEX, self.cdtype) / as_complex(h) * tf.complex(w[1], w[2]))
        dw_real = self.algebra.solve(real, f_real)
        dw_complex = self.algebra.solve(complex_, f_complex)
        return (tf.stack([dw_real, tf.math.real(dw_complex), tf.math.imag(dw_complex)]),
                tf.reduce_all(tf.math.is_finite(f)))

    def dense_coefficients(self, z):
        """q with y(t0 + x h) = y0 + sum_j q_j x^(j+1): the collocation polynomial."""
        return tf.linalg.matmul(self.p, z, transpose_a=True)

    @staticmethod
    def evaluate(y, q, x):
        return y + x * (q[0] + x * (q[1] + x * q[2]))


class RadauIIA:
    """Radau IIA (order 5) with its own integration loop (its controller reacts to Newton)."""

    name = "radau"
    implicit = True
    adaptive = True
    order = 5
    error_order = 3
    stats_keys = ("jacobian_evals", "lu_decompositions")

    def integrate(self, func, algebra, y0, f0, t, *, rtol, atol, first_step, step_size, max_steps,
                  norm=rms_norm, record=False):
        dtype = y0.dtype
        grid = TimeGrid.of(t, dtype)
        t, count, t0, t_end, direction, interval = (grid.t, grid.count, grid.t0, grid.t_end, grid.direction,
                                                    grid.interval)
        newton_tol = newton_tolerance(rtol, dtype)
        stages = _Stages(algebra, dtype)
        c, e = stages.c, stages.e
        t_matrix, ti_matrix = stages.t_matrix, stages.ti_matrix

        def jacobian(time, y):
            return tf.stop_gradient(algebra.jacobian(time, y))  # the converged step does not depend on J

        fixed = step_size is not None
        nfe = tf.constant(1, tf.int32)
        if fixed:
            h_abs = tf.constant(step_size, dtype)
        elif first_step is not None:
            h_abs = tf.constant(first_step, dtype)
        else:
            h_abs = tf.stop_gradient(initial_step(func, t0, y0, f0, direction, interval, 3, rtol, atol, norm))
            nfe += 1
        factor = stages.factor

        def newton(time, y, h, z0, scale, factored):
            w0 = tf.linalg.matmul(ti_matrix, z0)

            def body(k, w, z, norm_old, rate, has_rate, converged, stop, finite, worst):
                dw, finite = stages.newton_increment(time, y, h, w, z, factored)
                dw_norm = norm(dw / scale)
                new_rate = tf.where(has_rate, dw_norm / tf.where(has_rate, norm_old, tf.ones_like(norm_old)), rate)
                remaining = tf.cast(NEWTON_MAXITER - k, dtype)
                diverging = has_rate & ((new_rate >= 1) | (new_rate ** remaining / (1 - new_rate) * dw_norm > newton_tol))
                diverging |= ~finite
                w_next = tf.where(diverging, w, w + dw)
                z_next = tf.where(diverging, z, tf.linalg.matmul(t_matrix, w + dw))
                done = ~diverging & ((dw_norm == 0) | (has_rate & (new_rate / (1 - new_rate) * dw_norm < newton_tol)))
                worst = tf.cast(tf.argmax(tf.reduce_max(tf.abs(dw) / scale, axis=0)), tf.int32)
                return (k + 1, w_next, z_next, dw_norm, new_rate, tf.constant(True), done, diverging | done, finite,
                        worst)

            def more(k, w, z, norm_old, rate, has_rate, converged, stop, finite, worst):
                return (k < NEWTON_MAXITER) & ~stop

            zero = tf.constant(0.0, dtype)
            k, _, z, _, rate, _, converged, _, finite, worst = tf.while_loop(
                more, body, maximum_iterations=NEWTON_MAXITER, loop_vars=(tf.constant(0), w0, z0, zero, zero, tf.constant(False), tf.constant(False),
                             tf.constant(False), tf.constant(True), tf.constant(0)))
            return converged, k, z, rate, 3 * k, finite, worst

        zero_i = tf.constant(0, tf.int32)
        j0 = jacobian(t0, y0)
        factored0 = factor(j0, h_abs)  # placeholder factors; lu_valid=False forces a real factorization
        size = tf.shape(y0)[0]
        ys, status = start_outputs(y0, f0, count)
        loop_vars = dict(
            steps=zero_i, accepted=zero_i, rejected=zero_i, nfe=nfe, jacobian_evals=tf.constant(1), lu=zero_i,
            t=t0, y=y0, f=f0, h_abs=h_abs, h_start=h_abs, h_old=h_abs, error_old=tf.constant(1.0, dtype),
            has_old=tf.constant(False), jac=j0, factored=factored0, lu_valid=tf.constant(False),
            current_jac=tf.constant(True), rejected_in_step=tf.constant(False),
            sol_q=tf.zeros([3, size], dtype), sol_t=t0, sol_h=h_abs, sol_y=y0, has_sol=tf.constant(False),
            index=tf.constant(1), ys=ys, status=status, nonfinite=tf.constant(False),
            newton_failed=tf.constant(False), failing_component=tf.constant(-1))

        def body(v):
            v = dict(v)
            remaining = tf.abs(t_end - v["t"])
            if fixed:  # land on t_end rather than leave a sliver of a step to round-off
                close = remaining <= v["h_abs"] * (1 + 1e-10)
                h_abs = tf.where(close, remaining, v["h_abs"])
                at_end = close
            else:
                h_abs = tf.stop_gradient(tf.minimum(v["h_abs"], remaining))
                at_end = v["h_abs"] >= remaining
            h = direction * h_abs
            underflow = v["h_abs"] < min_step_size(v["t"], direction)
            y, f, time = v["y"], v["f"], v["t"]

            x = (time + h * c - v["sol_t"]) / v["sol_h"]
            predicted = v["sol_y"][None, :] + tf.linalg.matmul(tf.stack([x, x ** 2, x ** 3], axis=1), v["sol_q"])
            z0 = tf.where(v["has_sol"], predicted - y[None, :], tf.zeros([3, size], dtype))
            scale = atol + tf.abs(y) * rtol

            factored = tf.cond(v["lu_valid"], lambda: v["factored"], lambda: factor(v["jac"], h))
            lu = v["lu"] + 2 * (1 - tf.cast(v["lu_valid"], tf.int32))
            converged, n_iter, z, rate, evaluations, finite, worst = newton(time, y, h, z0, scale, factored)
            nfe = v["nfe"] + evaluations

            retry = ~converged & ~v["current_jac"]

            def with_fresh_jacobian():
                jac = jacobian(time, y)
                fresh = factor(jac, h)
                result = newton(time, y, h, z0, scale, fresh)
                return (jac, fresh) + result

            def without():
                return (v["jac"], factored, converged, n_iter, z, rate, tf.constant(0), finite, worst)

            jac, factored, converged, n_iter, z, rate, more_evaluations, finite, worst = tf.cond(
                retry, with_fresh_jacobian, without)
            z = tf.ensure_shape(z, z0.shape)
            nfe += more_evaluations
            jacobian_evals = v["jacobian_evals"] + tf.cast(retry, tf.int32)
            lu += 2 * tf.cast(retry, tf.int32)
            current_jac = v["current_jac"] | retry

            y_new = y + z[2]
            ze = tf.linalg.matvec(tf.transpose(z), e) / h
            error = algebra.solve(factored[0], f + ze)
            error_scale = mixed_scale(y, y_new, rtol, atol)
            error_norm = norm(error / error_scale)
            refine = converged & v["rejected_in_step"] & (error_norm > 1)

            def refined():
                better = algebra.solve(factored[0], func(time, y + error) + ze)
                return norm(better / error_scale)

            error_norm = tf.stop_gradient(tf.cond(refine, refined, lambda: error_norm))
            nfe += tf.cast(refine, tf.int32)
            safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + tf.cast(n_iter, dtype))
            positive = error_norm > 0
            safe_error = tf.where(positive, error_norm, tf.ones_like(error_norm))
            multiplier = tf.where(v["has_old"] & positive,
                                  h_abs / v["h_old"] * (v["error_old"] / safe_error) ** 0.25, tf.ones_like(h_abs))
            predicted_factor = tf.where(positive, tf.minimum(tf.ones_like(multiplier), multiplier) * safe_error ** -0.25,
                                        tf.constant(MAX_FACTOR, dtype))
            accept = converged & (error_norm <= 1) & ~underflow & tf.math.is_finite(error_norm)
            if fixed:
                accept = converged & ~underflow

            recompute_jac = (n_iter > 2) & (rate > 1e-3)
            grow = tf.minimum(tf.constant(MAX_FACTOR, dtype), safety * predicted_factor)
            keep_lu = ~recompute_jac & (grow < 1.2) if not fixed else ~at_end
            grow = tf.where(keep_lu, tf.ones_like(grow), grow)
            shrink = tf.where(converged, tf.maximum(tf.constant(MIN_FACTOR, dtype), safety * predicted_factor),
                              tf.constant(0.5, dtype))
            h_next = tf.stop_gradient(h_abs * tf.where(accept, grow, shrink))
            if fixed:
                h_next = tf.where(accept, v["h_abs"], h_next)

            t_new = time + h
            f_new = tf.cond(accept, lambda: func(t_new, y_new), lambda: f)
            nfe += tf.cast(accept, tf.int32)
            refresh = accept & recompute_jac
            jac = tf.cond(refresh, lambda: jacobian(t_new, y_new), lambda: jac)
            jacobian_evals += tf.cast(refresh, tf.int32)

            q = tf.ensure_shape(stages.dense_coefficients(z), v["sol_q"].shape)
            has_output = accept & step_holds_output(t, count, direction, v["index"], t_new, at_end)
            index, ys = tf.cond(has_output,
                                lambda: write_outputs(t, count, direction, v["index"], v["ys"], time, h, t_new,
                                                      at_end, lambda x: stages.evaluate(y, q, x)),
                                lambda: (v["index"], v["ys"]))
            recorded = {}
            if record:
                recorded = dict(trail=record_step(v["trail"], accept, v["accepted"],
                                                  dict(t=time, h=h, y=y, f=f, z=z, lo=v["index"], hi=index)),
                                y_last=tf.where(accept, y_new, y), f_last=tf.where(accept, f_new, f))

            status = tf.where(underflow, tf.where(v["nonfinite"], status_codes.NON_FINITE,
                                                  tf.where(v["newton_failed"], status_codes.NEWTON_FAILURE,
                                                           status_codes.STEP_UNDERFLOW)), v["status"])
            status = tf.where(accept & ~tf.reduce_all(tf.math.is_finite(f_new)), status_codes.NON_FINITE, status)
            steps = v["steps"] + 1
            status = tf.where((status == status_codes.SUCCESS) & (index < count) & (steps >= max_steps),
                              status_codes.MAX_STEPS, status)
            return dict(
                steps=steps, accepted=v["accepted"] + tf.cast(accept, tf.int32),
                rejected=v["rejected"] + tf.cast(~accept, tf.int32), nfe=nfe, jacobian_evals=jacobian_evals, lu=lu,
                t=tf.where(accept, t_new, time), y=tf.where(accept, y_new, y), f=tf.where(accept, f_new, f),
                h_abs=h_next, h_start=tf.where(accept, h_next, v["h_start"]),
                h_old=tf.where(accept, v["h_start"], v["h_old"]),
                error_old=tf.where(accept, error_norm, v["error_old"]), has_old=v["has_old"] | accept,
                jac=jac, factored=factored, lu_valid=accept & keep_lu,
                current_jac=tf.where(accept, refresh, current_jac),
                rejected_in_step=~accept & converged,
                sol_q=tf.where(accept, q, v["sol_q"]), sol_t=tf.where(accept, time, v["sol_t"]),
                sol_h=tf.where(accept, h, v["sol_h"]), sol_y=tf.where(accept, y, v["sol_y"]),
                has_sol=v["has_sol"] | accept, index=index, ys=ys, status=status,
                nonfinite=tf.where(accept, False, ~finite), newton_failed=~converged & finite,
                failing_component=tf.where(converged, v["failing_component"], worst), **recorded)

        if record:
            scalar, state = (dtype, []), (dtype, y0.shape)
            loop_vars.update(trail=start_trail(dict(t=scalar, h=scalar, y=state, f=state, z=(dtype, [3] + y0.shape),
                                                    lo=(tf.int32, []), hi=(tf.int32, [])), max_steps),
                             y_last=y0, f_last=f0)
        return run_implicit_loop(body, loop_vars, grid, max_steps, dtype)

    @staticmethod
    def replay(algebra, time, y, h, z):
        """The checkpointed gradient's replay of an accepted step from its converged stages ``z``:
        Newton iterations restarted there, with a fresh Jacobian, carry the derivatives of the
        collocation solution (the implicit function theorem's, to the iterations' contraction)
        without storing the forward iterations. Returns (y1, dense output, evaluations)."""
        stages = _Stages(algebra, y.dtype)
        factored = stages.factor(tf.stop_gradient(algebra.jacobian(time, y)), h)
        z = tf.stop_gradient(z)
        w = tf.linalg.matmul(stages.ti_matrix, z)
        for _ in range(REPLAY_ITERATIONS):
            dw, _ = stages.newton_increment(time, y, h, w, z, factored)
            w = w + dw
            z = tf.linalg.matmul(stages.t_matrix, w)
        q = stages.dense_coefficients(z)
        return y + z[2], lambda x: stages.evaluate(y, q, x), 3 * REPLAY_ITERATIONS


RADAU = RadauIIA()

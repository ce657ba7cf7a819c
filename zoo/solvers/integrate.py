"""The integration loop: one ``tf.while_loop`` over steps, for every explicit method.

The state is a flat vector (see ``layout.py``). Output times are filled from each accepted step's
dense output; the loop ends once the last output time is written or a failure status is set.
Step sizes proposed by the controller are constants to autodiff (as in diffrax): the gradient is that
of the discrete solution on its chosen step sequence.
"""

import tensorflow as tf

from zoo.solvers import status as status_codes
from zoo.solvers.controller import PIController, initial_step, rms_norm
from zoo.solvers.loop import TimeGrid, min_step_size, record_step, stack_trail, start_outputs, start_trail
from zoo.solvers.outputs import finish, step_holds_output, write_outputs


def integrate(method, func, y0, f0, t, *, rtol, atol, first_step, step_size, max_steps, algebra=None,
              record=False, norm=rms_norm):
    """Solves dy/dt = func(t, y), y(t[0]) = y0 on flat states, with f0 = func(t[0], y0).

    Implicit methods also get ``algebra`` (a LinearAlgebra over func) and carry a cache (their
    Jacobian) from step to step; their own counters (``method.stats_keys``) join the stats.

    Returns ``(ys, stats, where)``: ys of shape [len(t), size] (rows after a failure are NaN), a dict
    of int32 counters with ``status``, and where the loop stopped: ``t``, the step ``h`` it was trying
    and, for a Newton failure, the flat index of the ``component`` that failed to converge.

    With ``record``, ``where`` also holds ``trail``: every accepted step's start (t, h, y, f) and the
    range [lo, hi) of output indices it wrote, stacked into tensors, which is all that the
    checkpointed gradient needs to replay the solve one step at a time, and the final (y, f).
    ``norm`` measures scaled errors (the adjoint's seminorm leaves some components out).
    """
    dtype = y0.dtype
    grid = TimeGrid.of(t, dtype)
    t, count, t0, t_end, direction, interval = (grid.t, grid.count, grid.t0, grid.t_end, grid.direction,
                                                grid.interval)
    fixed = step_size is not None or not method.adaptive
    controller = PIController(method.error_order or method.order, beta=method.controller_beta)

    nfe = tf.constant(1, tf.int32)  # f0
    if fixed:
        h_abs = tf.constant(step_size, dtype)
        n_fixed = tf.maximum(tf.cast(tf.math.ceil(interval / h_abs * (1.0 - 8 * _eps(dtype))), tf.int32), 1)
    elif first_step is not None:
        h_abs = tf.constant(abs(first_step), dtype)
    else:
        h_abs = tf.stop_gradient(initial_step(func, t0, y0, f0, direction, interval, method.error_order, rtol, atol,
                                                  norm))
        nfe += 1

    implicit = getattr(method, "implicit", False)
    stats_keys = getattr(method, "stats_keys", ())
    cache = method.init_cache(algebra, t0, y0, f0) if implicit else ()
    counts = tuple(tf.constant(0, tf.int32) for _ in stats_keys)

    ys, status = start_outputs(y0, f0, count)

    def interpolate(step, at_end, t1, index, ys):
        coefficients, extra = method.interpolant.coefficients(step, func)
        index, ys = write_outputs(t, count, direction, index, ys, step.t0, step.h, t1, at_end,
                                  lambda theta: method.interpolant.evaluate(coefficients, step.y0, theta))
        return index, ys, tf.constant(extra, tf.int32)

    def body(steps, accepted_steps, rejected_steps, nfe, t_now, y, f, h_abs, error_prev,
             after_rejection, index, ys, status, nonfinite_rejection, cache, counts, trail):
        first_output = index
        remaining = tf.abs(t_end - t_now)
        if fixed:
            t_next = tf.where(steps + 1 >= n_fixed, t_end, t0 + direction * tf.cast(steps + 1, dtype) * h_abs)
            h = t_next - t_now
            at_end = steps + 1 >= n_fixed
        else:
            h = tf.stop_gradient(direction * tf.minimum(h_abs, remaining))
            at_end = h_abs >= remaining
        if implicit:
            step, cache, evaluations, step_counts = method.step(algebra, t_now, y, f, h, cache)
            nfe += evaluations
            counts = tuple(c + step_counts[key] for c, key in zip(counts, stats_keys))
        else:
            step = method.step(func, t_now, y, f, h)
            nfe += method.evaluations_per_step
        t1 = t_now + h
        if fixed:
            finite = tf.reduce_all(tf.math.is_finite(step.y1))
            accept = finite
            underflow = tf.constant(False)
            h_next, error_prev_next = h_abs, error_prev
        else:
            error = tf.stop_gradient(method.error_norm(step, rtol, atol, norm))
            finite = tf.math.is_finite(error)  # a NaN or Inf in y1 reaches the norm through its scale
            underflow = h_abs < min_step_size(t_now, direction)
            accept = finite & (error < 1.0) & ~underflow
            factor = controller.factor(error, error_prev, accept, after_rejection)
            h_next = tf.stop_gradient(tf.minimum(h_abs, remaining) * factor)
            error_prev_next = controller.next_previous_error(error, error_prev, accept)

        if step.f1 is None and fixed:
            step.f1 = func(t1, step.y1)  # fixed steps are only rejected when the solve fails
            nfe += 1
        elif step.f1 is None:
            step.f1 = tf.cond(accept, lambda: func(t1, step.y1), lambda: f)
            nfe += tf.cast(accept, tf.int32)
        finite_f1 = tf.reduce_all(tf.math.is_finite(step.f1))

        has_output = accept & step_holds_output(t, count, direction, index, t1, at_end)
        index, ys, extra = tf.cond(has_output, lambda: interpolate(step, at_end, t1, index, ys),
                                   lambda: (index, ys, tf.constant(0, tf.int32)))
        nfe += extra

        new_status = tf.where(accept & ~finite_f1, status_codes.NON_FINITE, status)
        if fixed:
            new_status = tf.where(finite, new_status, status_codes.NON_FINITE)
        else:
            failed_by_nan = nonfinite_rejection | ~finite
            new_status = tf.where(underflow, tf.where(failed_by_nan, status_codes.NON_FINITE,
                                                      status_codes.STEP_UNDERFLOW), new_status)
        steps += 1
        new_status = tf.where((new_status == status_codes.SUCCESS) & (index < count) & (steps >= max_steps),
                              status_codes.MAX_STEPS, new_status)
        if record:
            trail = record_step(trail, accept, accepted_steps,
                                dict(t=t_now, h=h, y=y, f=f, lo=first_output, hi=index))
        return (
            steps,
            accepted_steps + tf.cast(accept, tf.int32),
            rejected_steps + tf.cast(~accept, tf.int32),
            nfe,
            tf.where(accept, t1, t_now),
            tf.where(accept, step.y1, y),
            tf.where(accept, step.f1, f),
            h_next,
            error_prev_next,
            ~accept,
            index,
            ys,
            new_status,
            tf.where(accept, False, ~finite),
            method.after_step(cache, accept) if implicit else cache,
            counts,
            trail,
        )

    def running(steps, accepted_steps, rejected_steps, nfe, t_now, y, f, h_abs, error_prev,
                after_rejection, index, ys, status, nonfinite_rejection, cache, counts, trail):
        return (status == status_codes.SUCCESS) & (index < count)

    zero = tf.constant(0, tf.int32)
    trail = {}
    if record:
        scalar, state = (dtype, []), (dtype, y0.shape)
        trail = start_trail(dict(t=scalar, h=scalar, y=state, f=state, lo=(tf.int32, []), hi=(tf.int32, [])),
                            max_steps)
    loop_vars = (zero, zero, zero, nfe, t0, y0, f0, h_abs, tf.constant(1.0, dtype), tf.constant(False),
                 tf.constant(1, tf.int32), ys, status, tf.constant(False), cache, counts, trail)
    (steps, accepted_steps, rejected_steps, nfe, t_last, y_last, f_last, h_last, _, _, index, ys, status,
     _, _, counts, trail) = tf.while_loop(running, body, loop_vars, maximum_iterations=max_steps)

    ys = finish(ys, index, count, dtype)
    stats = {"nfe": nfe, "steps": steps, "accepted_steps": accepted_steps, "rejected_steps": rejected_steps,
             "status": status, **dict(zip(stats_keys, counts))}
    where = {"t": t_last, "h": h_last, "component": tf.constant(-1)}
    if record:
        where["trail"] = stack_trail(trail, accepted_steps, y_last, f_last)
    return ys, stats, where


def _eps(dtype):
    return float(tf.experimental.numpy.finfo(dtype.as_numpy_dtype).eps)


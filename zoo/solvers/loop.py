"""Scaffolding shared by the integration loops: the time grid, the Newton-based loops' run, and
loop-variable shapes."""

import dataclasses

import numpy as np
import tensorflow as tf

from zoo.solvers import status as status_codes
from zoo.solvers.outputs import finish


@dataclasses.dataclass
class TimeGrid:
    """The output times and the direction and length of the integration."""

    t: tf.Tensor
    count: object  # static int when known
    t0: tf.Tensor
    t_end: tf.Tensor
    direction: tf.Tensor
    interval: tf.Tensor

    @classmethod
    def of(cls, t, dtype):
        t = tf.convert_to_tensor(t, dtype)
        t0, t_end = t[0], t[-1]
        return cls(t=t, count=t.shape[0] if t.shape[0] is not None else tf.shape(t)[0], t0=t0, t_end=t_end,
                   direction=tf.where(t_end >= t0, tf.constant(1.0, dtype), tf.constant(-1.0, dtype)),
                   interval=tf.abs(t_end - t0))


def start_outputs(y0, f0, count):
    """The output array with y0 written at index 0, and the starting status (a NaN or Inf in
    f0 = func(t0, y0) fails the solve before its first step)."""
    ys = tf.TensorArray(y0.dtype, size=count, element_shape=y0.shape, clear_after_read=False).write(0, y0)
    status = tf.where(tf.reduce_all(tf.math.is_finite(f0)), status_codes.SUCCESS, status_codes.NON_FINITE)
    return ys, status


def min_step_size(t, direction):
    """The smallest step that still moves t: ten units in the last place (as scipy)."""
    return 10.0 * tf.abs(tf.math.nextafter(t, t + direction * float("inf")) - t)


def newton_tolerance(rtol, dtype):
    """The Newton stopping tolerance of Hairer's RADAU5 and scipy's implicit solvers."""
    return max(10 * float(np.finfo(dtype.as_numpy_dtype).eps) / rtol, min(0.03, rtol ** 0.5))


def keep_shapes(new, old):
    """Gives each new loop variable the static shape of the old one (ops such as reshapes inside
    conds lose it, and tf.while_loop requires it to stay fixed)."""

    def keep(updated, previous):
        if isinstance(updated, tf.Tensor) and isinstance(previous, tf.Tensor):
            return tf.ensure_shape(updated, previous.shape)
        return updated

    return tf.nest.map_structure(keep, new, old)


def run_implicit_loop(body, loop_vars, grid, max_steps, dtype):
    """Runs an implicit method's step loop (a dict of loop variables) and packs its results as every
    loop does: ``(ys, stats, where)``."""

    def running(v):
        return (v["status"] == status_codes.SUCCESS) & (v["index"] < grid.count)

    final, = tf.while_loop(running, lambda v: (keep_shapes(body(v), v),), (loop_vars,),
                           maximum_iterations=max_steps)
    ys = finish(final["ys"], final["index"], grid.count, dtype)
    stats = {"nfe": final["nfe"], "steps": final["steps"], "accepted_steps": final["accepted"],
             "rejected_steps": final["rejected"], "status": final["status"],
             "jacobian_evals": final["jacobian_evals"], "lu_decompositions": final["lu"]}
    return ys, stats, {"t": final["t"], "h": final["h_abs"], "component": final["failing_component"]}

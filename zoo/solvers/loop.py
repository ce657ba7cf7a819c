"""Scaffolding shared by the integration loops: the time grid, the Newton-based loops' run, and
loop-variable shapes."""

import dataclasses

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops
from tensorflow.python.ops import control_flow_util

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
    if in_xla_context():
        # A tensor, not a TensorArray: XLA cannot differentiate a cond that passes a TensorArray.
        ys = tf.concat([y0[None], tf.zeros(tf.stack([count - 1, tf.shape(y0)[0]]), y0.dtype)], axis=0)
    else:
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
    loop does: ``(ys, stats, where)``; a ``trail`` loop variable (see ``start_trail``) becomes
    ``where["trail"]``."""

    def running(v):
        return (v["status"] == status_codes.SUCCESS) & (v["index"] < grid.count)

    final, = tf.while_loop(running, lambda v: (keep_shapes(body(v), v),), (loop_vars,),
                           maximum_iterations=max_steps)
    ys = finish(final["ys"], final["index"], grid.count, dtype)
    stats = {"nfe": final["nfe"], "steps": final["steps"], "accepted_steps": final["accepted"],
             "rejected_steps": final["rejected"], "status": final["status"],
             "jacobian_evals": final["jacobian_evals"], "lu_decompositions": final["lu"]}
    where = {"t": final["t"], "h": final["h_abs"], "component": final["failing_component"]}
    if "trail" in final:
        where["trail"] = stack_trail(final["trail"], final["accepted"], final["y_last"], final["f_last"])
    return ys, stats, where


def start_trail(fields, max_steps):
    """TensorArrays for the record of accepted steps that the checkpointed and interpolating-adjoint
    gradients read: ``fields`` maps each name to (dtype, element shape). XLA needs a fixed size, so
    there the trail reserves ``max_steps`` entries."""
    growable = not in_xla_context()
    return {name: tf.TensorArray(dtype, size=0 if growable else max_steps, dynamic_size=growable,
                                 element_shape=shape)
            for name, (dtype, shape) in fields.items()}


def record_step(trail, accept, position, entries):
    """Writes ``entries`` (a dict over the trail's fields) at ``position`` when the step is accepted."""
    return tf.cond(accept, lambda: {name: trail[name].write(position, entries[name]) for name in trail},
                   lambda: dict(trail))


def stack_trail(trail, count, final_y, final_f):
    """The trail as tensors (no TensorArray may outlive the loop: a SavedModel's gradient function
    cannot capture one), with the number of accepted steps and the final state and derivative."""
    return dict({name: array.stack() for name, array in trail.items()}, count=count, final_y=final_y,
                final_f=final_f)


def in_xla_context():
    return control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph())

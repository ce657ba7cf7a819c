"""``odeint``: the public entry point of zoo.solvers."""

import dataclasses
import inspect
import math
import weakref

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops
from tensorflow.python.ops import control_flow_util

from zoo.solvers import status as status_codes
from zoo.solvers.gradients import checkpointed
from zoo.solvers.integrate import integrate
from zoo.solvers.layout import StateLayout
from zoo.solvers.linear_algebra import LinearAlgebra
from zoo.solvers.methods import get_method

GRADIENT_MODES = ("direct", "checkpoint")


@dataclasses.dataclass(frozen=True)
class _Options:
    method: str
    rtol: float
    atol: float
    first_step: float | None
    step_size: float | None
    max_steps: int
    gradient: str
    jacobian: object
    independent_batch: bool


def odeint(func, y0, t, *, method="dopri5", rtol=1e-6, atol=1e-8, first_step=None, step_size=None,
           max_steps=100_000, gradient="direct", return_stats=False, jacobian=None, independent_batch=False):
    """Solves dy/dt = func(t, y) with y(t[0]) = y0 and returns y at every time in ``t``.

    Args:
      func: ``func(t, y)`` returning dy/dt with the structure, shapes and dtype of ``y``. ``t`` is a
        scalar tensor. Any callable: a Python function, a Keras layer or model wrapped in a lambda.
      y0: the initial state: a float32 or float64 tensor of any shape, or a nested structure
        (dict/list/tuple) of them sharing one dtype. Batches are simply leading axes.
      t: 1-D output times, strictly increasing or strictly decreasing; ``t[0]`` is the initial time.
        Cast to the state's dtype.
      method: one of ``METHODS``. Adaptive methods control the step with ``rtol``/``atol``;
        fixed-step methods (euler, midpoint, heun, rk4) need ``step_size``. An adaptive method given a
        ``step_size`` takes fixed steps too.
      rtol, atol: relative and absolute tolerances of the mixed RMS error norm over the whole state.
      first_step: the first step's size; by default Hairer's automatic choice (one extra evaluation).
      step_size: the step of fixed-step integration. The last step ends exactly at ``t[-1]``.
      max_steps: the most steps (accepted plus rejected) before the solve fails.
      gradient: "direct" differentiates through the solver's own operations.
      return_stats: also return a dict of int32 scalars: ``nfe``, ``steps``, ``accepted_steps``,
        ``rejected_steps`` and ``status`` (0 success; see ``zoo.solvers.status``); stiff methods add
        ``jacobian_evals`` and ``lu_decompositions``.
      jacobian: stiff methods only: ``jacobian(t, y)`` returning d func / d y for a single-tensor
        state, as a [size, size] matrix over ``tf.reshape(y, [-1])`` (or [batch, n, n] blocks with
        ``independent_batch``). By default the Jacobian comes from TensorFlow autodiff.
      independent_batch: stiff methods only: declares that the leading axis of every leaf of ``y0``
        indexes independent systems (a batch of trajectories, the neural-ODE case), so the
        Jacobian is block-diagonal: it is formed with ``batch_jacobian`` and factored as ``batch``
        small matrices instead of one (batch*n) x (batch*n) matrix. The error norm still covers the
        whole batch, so all systems share one step size.

    Returns:
      ``ys`` with the structure of ``y0``, each leaf with a leading axis of ``len(t)``; ``ys[0]`` is
      ``y0``. With ``return_stats``, ``(ys, stats)``.

    Raises:
      ValueError: an unknown method or gradient mode, bad options, ``t`` not 1-D or not strictly
        monotonic, mixed or non-float dtypes, or a ``func`` whose output does not match ``y``.
      SolverError: (an InvalidArgumentError) the solve failed: more than ``max_steps`` steps, a step
        size underflow, or a non-finite state or derivative; the message gives t and the step count.
        In graph mode the same failure raises InvalidArgumentError with that message when run.
        Under XLA (``jit_compile=True``) nothing can be raised: outputs after the failure are NaN and
        ``stats["status"]`` holds the failure's code (``zoo.solvers.status.describe`` names it).
    """
    options = _validate_options(method, rtol, atol, first_step, step_size, max_steps, gradient, jacobian,
                                independent_batch)
    if tf.executing_eagerly():
        t = _validated_times(t, StateLayout(y0).dtype)  # values are known here: check them now
        ys, stats, where = _compiled_solver(func, options)(y0, t)
        code = int(stats["status"])
        if code != status_codes.SUCCESS:
            raise status_codes.SolverError(
                status_codes.failure_message(code, float(where["t"]), int(stats["steps"]),
                                             int(stats["accepted_steps"]), int(stats["rejected_steps"]),
                                             options.max_steps, h=float(where["h"]),
                                             component=_component_name(y0, int(where["component"]),
                                                                       options.independent_batch)),
                status=code)
    else:
        ys, stats, where = _solve(func, y0, t, options)
        if not _in_xla_context():
            message = status_codes.graph_failure_message(stats["status"], where, stats["steps"],
                                                         stats["accepted_steps"], stats["rejected_steps"],
                                                         options.max_steps)
            check = tf.debugging.Assert(tf.equal(stats["status"], status_codes.SUCCESS), [message])
            with tf.control_dependencies([check]):
                ys = tf.nest.map_structure(tf.identity, ys)
    return (ys, stats) if return_stats else ys


def _validate_options(method, rtol, atol, first_step, step_size, max_steps, gradient, jacobian, independent_batch):
    solver = get_method(method)
    if gradient not in GRADIENT_MODES:
        raise ValueError(f"Unknown gradient mode {gradient!r}; choose one of: {', '.join(GRADIENT_MODES)}.")
    if gradient == "checkpoint" and hasattr(solver, "integrate"):
        raise ValueError(f"odeint: gradient='checkpoint' does not support method {method!r} yet; use "
                         "gradient='direct'.")
    rtol, atol = _positive_float("rtol", rtol, allow_zero=False), _positive_float("atol", atol, allow_zero=True)
    if first_step is not None:
        first_step = _positive_float("first_step", first_step, allow_zero=False)
    if step_size is not None:
        step_size = _positive_float("step_size", step_size, allow_zero=False)
    elif not solver.adaptive:
        raise ValueError(f"odeint: method {method!r} takes fixed steps; pass step_size=... (for example "
                         "step_size=0.01), or choose an adaptive method such as 'dopri5'.")
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"odeint: max_steps must be a positive integer, got {max_steps!r}.")
    if jacobian is not None and not callable(jacobian):
        raise ValueError(f"odeint: jacobian must be a callable jacobian(t, y), got {type(jacobian).__name__}.")
    return _Options(method, rtol, atol, first_step, step_size, int(max_steps), gradient, jacobian,
                    bool(independent_batch))


def _positive_float(name, value, allow_zero):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"odeint: {name} must be a number, got {value!r}.") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"odeint: {name} must be a finite {bound} number, got {value!r}.")
    return value


def _solve(func, y0, t, options):
    method = get_method(options.method)
    layout = StateLayout(y0, batch_major=options.independent_batch and method.implicit)
    t = _validated_times(t, layout.dtype)
    y0_flat = layout.flatten(layout.leaves if len(layout.leaves) > 1 else layout.leaves[0])
    y0_structured = tf.nest.pack_sequence_as(layout.structure, layout.leaves)

    first = func(t[0], y0_structured)
    layout.check_derivative(first)

    def flat_func(time, vector):
        return layout.flatten(func(time, layout.unflatten(vector)))

    algebra = None
    if method.implicit:
        algebra = LinearAlgebra(flat_func, batch=layout.batch if layout.batch_major else None,
                                user_jacobian=_flat_jacobian(options.jacobian, layout), use_qr=_in_xla_context())
    run = getattr(method, "integrate", None)
    if run is not None:  # methods whose step control cannot share the generic loop (Radau)
        ys, stats, where = run(flat_func, algebra, y0_flat, layout.flatten(first), t, rtol=options.rtol,
                                atol=options.atol, first_step=options.first_step, step_size=options.step_size,
                                max_steps=options.max_steps)
        return layout.unflatten_trajectory(ys), stats, where
    def run(y0, f0, t, record=False):
        return integrate(method, flat_func, y0, f0, t, rtol=options.rtol, atol=options.atol,
                         first_step=options.first_step, step_size=options.step_size,
                         max_steps=options.max_steps, algebra=algebra, record=record)

    if options.gradient == "checkpoint":
        ys, stats, where = checkpointed(method, flat_func, y0_flat, t,
                                        lambda y0, f0, t: run(y0, f0, t, record=True),
                                        fixed_step=options.step_size if (options.step_size or not method.adaptive)
                                        else None, algebra=algebra)
    else:
        ys, stats, where = run(y0_flat, layout.flatten(first), t)
    return layout.unflatten_trajectory(ys), stats, where


def _component_name(y0, index, batch_major):
    """Names entry ``index`` of the flattened state as ``leaf[i, j]`` (eager mode, shapes known)."""
    if index < 0:
        return None
    leaves = [np.asarray(leaf) for leaf in tf.nest.flatten(y0)]
    if batch_major and len(leaves) > 1:
        return f"{index} of the batch-major flattened state"
    paths = ["y"] if len(leaves) == 1 else [f"y{p}" for p in StateLayout(y0).paths]
    for path, leaf in zip(paths, leaves):
        if index < leaf.size:
            position = np.unravel_index(index, leaf.shape) if leaf.shape else ()
            return f"{path}[{', '.join(str(int(i)) for i in position)}]" if position else path
        index -= leaf.size
    return str(index)


def _flat_jacobian(jacobian, layout):
    if jacobian is None:
        return None
    if len(layout.leaves) != 1:
        raise ValueError("odeint: a user jacobian needs y0 to be a single tensor; for nested states leave "
                         "jacobian=None and the Jacobian comes from autodiff.")

    def flat(time, vector):
        return tf.convert_to_tensor(jacobian(time, layout.unflatten(vector)), layout.dtype)

    return flat


def _validated_times(t, dtype):
    t = tf.convert_to_tensor(t)
    if not (t.dtype.is_floating or t.dtype.is_integer):
        raise ValueError(f"odeint: t must hold real numbers, got dtype {t.dtype.name}.")
    t = tf.cast(t, dtype)
    if t.shape.rank is not None and t.shape.rank != 1:
        raise ValueError(f"odeint: t must be 1-D (the output times), got shape {t.shape}.")
    if t.shape.rank is not None and t.shape[0] == 0:
        raise ValueError("odeint: t is empty; give at least the initial time.")
    values = tf.get_static_value(t)
    message = ("odeint: t must be strictly increasing or strictly decreasing (t[0] is the initial time); "
               "found a repeated or out-of-order time.")
    if values is not None:
        steps = np.diff(values)
        if not np.all(np.isfinite(values)):
            raise ValueError("odeint: t holds NaN or Inf.")
        if steps.size and not (np.all(steps > 0) or np.all(steps < 0)):
            raise ValueError(message)
        return t
    if _in_xla_context():
        return t
    steps = t[1:] - t[:-1]
    monotonic = tf.reduce_all(steps > 0) | tf.reduce_all(steps < 0)
    check = tf.debugging.Assert(monotonic & tf.reduce_all(tf.math.is_finite(t)), [message])
    with tf.control_dependencies([check]):
        return tf.identity(t)


def _in_xla_context():
    return control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph())


# Eager calls run through one tf.function per (func, options), traced once per input signature.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled_solver(func, options):
    if inspect.ismethod(func):
        owner, unbound = func.__self__, func.__func__
    else:
        owner, unbound = func, None
    try:
        per_owner = _COMPILED.setdefault(owner, {})
    except TypeError:  # not weak-referenceable: trace for this call only
        return tf.function(lambda y0, t: _solve(func, y0, t, options), autograph=False)
    key = (unbound, options)
    if key not in per_owner:
        owner_ref = weakref.ref(owner)

        def solve(y0, t):
            target = owner_ref()
            bound = target if unbound is None else unbound.__get__(target)
            return _solve(bound, y0, t, options)

        per_owner[key] = tf.function(solve, autograph=False)
    return per_owner[key]

"""``odeint``: the public entry point of zoo.solvers."""

import collections
import dataclasses
import inspect
import math
import weakref

import numpy as np
import tensorflow as tf

from zoo.solvers import status as status_codes
from zoo.solvers.adjoint import adjoint
from zoo.solvers.checkpoint import checkpointed
from zoo.solvers.controller import rms_norm
from zoo.solvers.integrate import integrate
from zoo.solvers.layout import StateLayout
from zoo.solvers.loop import in_xla_context
from zoo.solvers.linear_algebra import LinearAlgebra
from zoo.solvers.methods import get_method

GRADIENT_MODES = ("direct", "checkpoint", "adjoint")
_ADJOINT_DEFAULTS = dict(adjoint_method=None, adjoint_rtol=None, adjoint_atol=None, adjoint_seminorm=True,
                         adjoint_interpolate=False)


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
    adjoint_method: str
    adjoint_rtol: float
    adjoint_atol: float
    adjoint_seminorm: bool
    adjoint_interpolate: bool


def odeint(func, y0, t, *, method="dopri5", rtol=1e-6, atol=1e-8, first_step=None, step_size=None,
           max_steps=100_000, gradient="direct", return_stats=False, jacobian=None, independent_batch=False,
           adjoint_method=None, adjoint_rtol=None, adjoint_atol=None, adjoint_seminorm=True,
           adjoint_interpolate=False, backward_nfe=None):
    """Solves dy/dt = func(t, y) with y(t[0]) = y0 and returns y at every time in ``t``.

    Args:
      func: ``func(t, y)`` returning dy/dt with the structure, shapes and dtype of ``y``. ``t`` is a
        scalar tensor. Any callable: a Python function, a Keras layer or model wrapped in a lambda.
      y0: the initial state: a float32 or float64 tensor of any shape, or a nested structure
        (dict/list/tuple) of them sharing one dtype. Batches are simply leading axes.
      t: 1-D output times, finite and strictly increasing or strictly decreasing; ``t[0]`` is the
        initial time (a single time returns ``[y0]`` without a step). Cast to the state's dtype.
      method: one of ``METHODS``. Adaptive methods control the step with ``rtol``/``atol``;
        fixed-step methods (euler, midpoint, heun, rk4) need ``step_size``. An adaptive method given a
        ``step_size`` takes fixed steps too.
      rtol, atol: relative and absolute tolerances of the mixed RMS error norm over the whole state.
      first_step: the first step's size; by default Hairer's automatic choice (one extra evaluation).
      step_size: the step of fixed-step integration. The last step ends exactly at ``t[-1]``.
      max_steps: the most steps (accepted plus rejected) before the solve fails. Nothing is sized by
        it in a forward solve, under XLA too, so a generous bound costs nothing.
      gradient: how gradients with respect to y0, t and every variable func reads are computed.
        "direct" differentiates through the solver's own operations (memory grows with steps x
        stages x func's activations). "checkpoint" gives the same numbers (the exact gradient of the
        discrete solve) from a forward pass that keeps each accepted step's start only and a
        backward pass that recomputes one step at a time (memory grows with steps x state). Under
        XLA, which needs fixed sizes, a solve traced under a gradient tape reserves ``max_steps``
        entries for that record; one traced without a tape (a forward pass) reserves nothing, and
        its backward pass, if one is asked for later, repeats the solve to record the steps. The
        stiff methods under XLA compute "direct" this way too: TensorFlow cannot differentiate
        their loops there.
        "adjoint" solves the continuous adjoint equations backwards in time (Chen et al., 2018):
        memory does not grow with the steps; the gradient is accurate to the tolerances.
      return_stats: also return a dict of int32 scalars: ``nfe``, ``steps``, ``accepted_steps``,
        ``rejected_steps`` and ``status`` (0 success; see ``zoo.solvers.status``); stiff methods add
        ``jacobian_evals`` and ``lu_decompositions``. With gradient "checkpoint" or "adjoint" it also
        holds ``backward_nfe``, an int32 variable that each gradient computation sets to the
        evaluations of func its backward pass made.
      jacobian: stiff methods only: ``jacobian(t, y)`` returning d func / d y for a single-tensor
        state, as a [size, size] matrix over ``tf.reshape(y, [-1])`` (or [batch, n, n] blocks with
        ``independent_batch``). By default the Jacobian comes from TensorFlow autodiff.
      independent_batch: stiff methods only: declares that the leading axis of every leaf of ``y0``
        indexes independent systems (a batch of trajectories, the neural-ODE case), so the
        Jacobian is block-diagonal: it is formed with ``batch_jacobian`` and factored as ``batch``
        small matrices instead of one (batch*n) x (batch*n) matrix. The error norm still covers the
        whole batch, so all systems share one step size.
      adjoint_method, adjoint_rtol, adjoint_atol: gradient="adjoint" only: the method and tolerances
        of the backward solve (default: the forward ones; a fixed-step solve keeps its step_size).
      adjoint_seminorm: gradient="adjoint" only: leave the parameter and time components of the
        adjoint state out of the error norm (Kidger et al., 2021): the same gradient accuracy from
        fewer backward steps.
      adjoint_interpolate: gradient="adjoint" only: read the state during the backward solve from a
        cubic Hermite interpolant of the forward steps instead of solving it backwards, which is
        unstable for dynamics that contract strongly; memory then grows with steps x state.
      backward_nfe: gradient "checkpoint" or "adjoint": an int32 variable to which each gradient
        computation adds its backward evaluations (how Keras layers report a mean over batches).

    Called eagerly, odeint runs a tf.function compiled for (func, options), traced once per input
    signature and kept for the next call with the same func object: each func keeps the
    ``COMPILED_PER_FUNC`` (32) options sets it used last, so a sweep over rtol or method compiles
    each once.

    Returns:
      ``ys`` with the structure of ``y0``, each leaf with a leading axis of ``len(t)``; ``ys[0]`` is
      ``y0``. With ``return_stats``, ``(ys, stats)``.

    Raises:
      ValueError: an unknown method or gradient mode, bad options, ``t`` empty, not 1-D, not finite
        or not strictly monotonic, mixed or non-float dtypes, or a ``func`` whose output does not
        match ``y``. In graph mode, where t's values are known only when it runs, the same checks
        raise InvalidArgumentError with those messages (under XLA they cannot).
      SolverError: (an InvalidArgumentError) the solve failed: more than ``max_steps`` steps, a step
        size underflow, or a non-finite state or derivative; the message gives t and the step count.
        In graph mode the same failure raises InvalidArgumentError with that message when run.
        Under XLA (``jit_compile=True``) nothing can be raised: outputs after the failure are NaN and
        ``stats["status"]`` holds the failure's code (``zoo.solvers.status.describe`` names it).
    """
    adjoint_options = dict(adjoint_method=adjoint_method, adjoint_rtol=adjoint_rtol, adjoint_atol=adjoint_atol,
                           adjoint_seminorm=adjoint_seminorm, adjoint_interpolate=adjoint_interpolate)
    options = _validate_options(method, rtol, atol, first_step, step_size, max_steps, gradient, jacobian,
                                independent_batch, adjoint_options)
    counter, on_backward = None, None
    if backward_nfe is not None and gradient != "direct":
        on_backward = backward_nfe.assign_add
    elif return_stats and gradient != "direct":
        counter = _backward_counter(func, options)
        on_backward = counter.assign
    if tf.executing_eagerly():
        t = _validated_times(t, StateLayout(y0).dtype)  # values are known here: check them now
        ys, stats, where = _compiled_solver(func, options, on_backward)(y0, t)
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
        ys, stats, where = _solve(func, y0, t, options, on_backward)
        if not in_xla_context():
            message = status_codes.graph_failure_message(stats["status"], where, stats["steps"],
                                                         stats["accepted_steps"], stats["rejected_steps"],
                                                         options.max_steps)
            check = tf.debugging.Assert(tf.equal(stats["status"], status_codes.SUCCESS), [message])
            with tf.control_dependencies([check]):
                ys = tf.nest.map_structure(tf.identity, ys)
    if counter is not None:
        stats = dict(stats, backward_nfe=counter)
    return (ys, stats) if return_stats else ys


def _validate_options(method, rtol, atol, first_step, step_size, max_steps, gradient, jacobian, independent_batch,
                      adjoint_options):
    solver = get_method(method)
    if gradient not in GRADIENT_MODES:
        raise ValueError(f"Unknown gradient mode {gradient!r}; choose one of: {', '.join(GRADIENT_MODES)}.")
    if gradient != "adjoint":
        changed = [name for name, value in adjoint_options.items() if value != _ADJOINT_DEFAULTS[name]]
        if changed:
            raise ValueError(f"odeint: {', '.join(changed)} only apply to gradient='adjoint' (got "
                             f"gradient={gradient!r}); drop them or pass gradient='adjoint'.")
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
    adjoint_options = _validate_adjoint_options(dict(adjoint_options), method, rtol, atol, step_size)
    return _Options(method, rtol, atol, first_step, step_size, int(max_steps), gradient, jacobian,
                    bool(independent_batch), **adjoint_options)


def _validate_adjoint_options(options, method, rtol, atol, step_size):
    backward = get_method(options["adjoint_method"] or method)
    if step_size is None and not backward.adaptive:
        raise ValueError(f"odeint: adjoint_method {backward.name!r} takes fixed steps, but the forward solve "
                         "is adaptive; pass step_size=..., or an adaptive adjoint_method such as 'dopri5'.")
    if backward.name == "bdf" and step_size is not None:
        raise ValueError("odeint: adjoint_method 'bdf' chooses its own steps; with step_size=... use another "
                         "adjoint_method.")
    for name, default in (("adjoint_rtol", rtol), ("adjoint_atol", atol)):
        value = options[name]
        options[name] = default if value is None else _positive_float(name, value, name == "adjoint_atol")
    return dict(options, adjoint_method=backward.name, adjoint_seminorm=bool(options["adjoint_seminorm"]),
                adjoint_interpolate=bool(options["adjoint_interpolate"]))


def _positive_float(name, value, allow_zero):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"odeint: {name} must be a number, got {value!r}.") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"odeint: {name} must be a finite {bound} number, got {value!r}.")
    return value


def _solve(func, y0, t, options, on_backward=None):
    method = get_method(options.method)
    layout = StateLayout(y0, batch_major=options.independent_batch and method.implicit)
    t = _validated_times(t, layout.dtype)
    y0_flat = layout.flatten(layout.leaves if len(layout.leaves) > 1 else layout.leaves[0])
    y0_structured = tf.nest.pack_sequence_as(layout.structure, layout.leaves)

    first = func(t[0], y0_structured)
    layout.check_derivative(first)

    def flat_func(time, vector):
        return layout.flatten(func(time, layout.unflatten(vector)))

    solver = _FlatSolver(method, flat_func, options, options.rtol, options.atol, options.first_step,
                         batch=layout.batch if layout.batch_major else None,
                         jacobian=_flat_jacobian(options.jacobian, layout))
    gradient = options.gradient
    if gradient == "direct" and method.implicit and in_xla_context():
        # TensorFlow cannot differentiate the implicit methods' loops under XLA (conds that read
        # func's variables, forward-mode time derivatives); replaying recorded steps gives the same
        # gradient.
        gradient = "checkpoint"
    if gradient == "checkpoint":
        fixed_step = options.step_size is not None or not method.adaptive
        ys, stats, where = checkpointed(method, flat_func, solver.algebra, y0_flat, t,
                                        lambda y0, t, record: solver(y0, flat_func(t[0], y0), t, record=record),
                                        fixed_step,
                                        on_backward)
    elif gradient == "adjoint":
        backward_method = get_method(options.adjoint_method)

        def backward(dynamics, state, times, norm):
            backward_solver = _FlatSolver(backward_method, dynamics, options, options.adjoint_rtol,
                                          options.adjoint_atol, first_step=None)
            return backward_solver(state, dynamics(times[0], state), times, norm=norm)

        ys, stats, where = adjoint(flat_func, y0_flat, t,
                                   lambda y0, t, record: solver(y0, flat_func(t[0], y0), t, record=record),
                                   backward, seminorm=options.adjoint_seminorm,
                                   interpolate=options.adjoint_interpolate, max_steps=options.max_steps,
                                   on_backward=on_backward)
    else:
        ys, stats, where = solver(y0_flat, layout.flatten(first), t)
    return layout.unflatten_trajectory(ys), stats, where


class _FlatSolver:
    """One method with its options over a flat state: ``solver(y0, f0, t, record, norm)`` returns the
    loop's (ys, stats, where)."""

    def __init__(self, method, func, options, rtol, atol, first_step, batch=None, jacobian=None):
        self.method, self.func = method, func
        self.settings = dict(rtol=rtol, atol=atol, first_step=first_step, step_size=options.step_size,
                             max_steps=options.max_steps)
        self.algebra = None
        if method.implicit:
            self.algebra = LinearAlgebra(func, batch=batch, user_jacobian=jacobian, use_qr=in_xla_context())

    def __call__(self, y0, f0, t, record=False, norm=rms_norm):
        run = getattr(self.method, "integrate", None)
        if run is not None:  # methods whose step control cannot share the generic loop (Radau, BDF)
            return run(self.func, self.algebra, y0, f0, t, record=record, norm=norm, **self.settings)
        return integrate(self.method, self.func, y0, f0, t, algebra=self.algebra, record=record, norm=norm,
                         **self.settings)


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


_EMPTY_TIMES = "odeint: t is empty; give at least the initial time."
_NON_FINITE_TIMES = "odeint: t holds NaN or Inf; output times must be finite."
_NON_MONOTONIC_TIMES = ("odeint: t must be strictly increasing or strictly decreasing (t[0] is the initial time); "
                        "found a repeated or out-of-order time.")


def _validated_times(t, dtype):
    t = tf.convert_to_tensor(t)
    if not (t.dtype.is_floating or t.dtype.is_integer):
        raise ValueError(f"odeint: t must hold real numbers, got dtype {t.dtype.name}.")
    t = tf.cast(t, dtype)
    if t.shape.rank is not None and t.shape.rank != 1:
        raise ValueError(f"odeint: t must be 1-D (the output times), got shape {t.shape}.")
    if t.shape.rank is not None and t.shape[0] == 0:
        raise ValueError(_EMPTY_TIMES)
    values = tf.get_static_value(t)
    if values is not None:
        steps = np.diff(values)
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValueError(f"{_NON_FINITE_TIMES} t[{bad}] is {values[bad]}.")
        if steps.size and not (np.all(steps > 0) or np.all(steps < 0)):
            raise ValueError(_NON_MONOTONIC_TIMES)
        return t
    if in_xla_context():
        return t
    steps = t[1:] - t[:-1]
    checks = [tf.debugging.Assert(tf.size(t) > 0, [_EMPTY_TIMES]),
              tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(t)), [_NON_FINITE_TIMES]),
              tf.debugging.Assert(tf.reduce_all(steps > 0) | tf.reduce_all(steps < 0), [_NON_MONOTONIC_TIMES])]
    with tf.control_dependencies(checks):
        return tf.identity(t)


# Eager calls run through one tf.function per (func, options), traced once per input signature. Each
# func keeps its COMPILED_PER_FUNC most recently used ones (a sweep over options reuses them); an
# older one is traced again when its options come back.
COMPILED_PER_FUNC = 32
_COMPILED = weakref.WeakKeyDictionary()
_COUNTERS = weakref.WeakKeyDictionary()


def _owner(func):
    if inspect.ismethod(func):
        return func.__self__, func.__func__
    return func, None


def _cached(table, func, key, make):
    """``make(owner_ref, unbound)`` cached in ``table`` under func's owner and (unbound, *key),
    least recently used first out; a func that cannot be weakly referenced gets a fresh one."""
    owner, unbound = _owner(func)
    try:
        per_owner = table.setdefault(owner, collections.OrderedDict())
    except TypeError:
        return make(lambda: owner, unbound)
    key = (unbound,) + key
    if key in per_owner:
        per_owner.move_to_end(key)
    else:
        per_owner[key] = make(weakref.ref(owner), unbound)
        if len(per_owner) > COMPILED_PER_FUNC:
            per_owner.popitem(last=False)
    return per_owner[key]


class _Solve:
    """The traced function of one (func, options). A callable object rather than a closure, because
    TensorFlow's retracing warning counts the traces of every function sharing one code object:
    the closures of a sweep over options would look like one function retraced at every call."""

    def __init__(self, owner_ref, unbound, options, on_backward):
        self.owner_ref, self.unbound, self.options, self.on_backward = owner_ref, unbound, options, on_backward

    def __call__(self, y0, t):
        target = self.owner_ref()
        func = target if self.unbound is None else self.unbound.__get__(target)
        return _solve(func, y0, t, self.options, self.on_backward)


def _compiled_solver(func, options, on_backward):
    return _cached(_COMPILED, func, (options, on_backward),
                   lambda owner_ref, unbound: tf.function(_Solve(owner_ref, unbound, options, on_backward),
                                                          autograph=False))


def _backward_counter(func, options):
    """The variable that receives the backward pass's evaluations: one per (func, options), created
    outside any function being traced."""

    def make(owner_ref, unbound):
        with tf.init_scope():
            return tf.Variable(0, dtype=tf.int32, trainable=False, name="backward_nfe")

    return _cached(_COUNTERS, func, (options,), make)

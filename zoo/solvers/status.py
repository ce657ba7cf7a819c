"""How a solve ended: codes carried in ``stats["status"]`` and the error raised for a failure."""

import tensorflow as tf

SUCCESS = 0
MAX_STEPS = 1
STEP_UNDERFLOW = 2
NON_FINITE = 3
NEWTON_FAILURE = 4

_DESCRIPTIONS = {
    SUCCESS: "success",
    MAX_STEPS: "max_steps reached",
    STEP_UNDERFLOW: "step size underflow",
    NON_FINITE: "non-finite state or derivative",
    NEWTON_FAILURE: "Newton iterations failed at the minimum step size",
}

_ADVICE = {
    MAX_STEPS: "raise max_steps, loosen rtol/atol, or use a stiff method if the problem is stiff",
    STEP_UNDERFLOW: "the solution may blow up there, or the problem may be stiff (try 'radau', 'bdf' or "
                    "'rodas5p') or need looser tolerances",
    NON_FINITE: "the dynamics produced NaN or Inf; check func for overflow or invalid operations near this t",
    NEWTON_FAILURE: "the implicit stage equations have no nearby solution there (a singularity, or a "
                    "discontinuity in func); check func and its Jacobian near this t and component",
}


def describe(code):
    """The name of a status code, as found in ``stats["status"]``."""
    return _DESCRIPTIONS.get(int(code), f"unknown status {int(code)}")


class SolverError(tf.errors.InvalidArgumentError):
    """An ODE solve failed: max_steps exceeded, the step size underflowed, or the state or its
    derivative stopped being finite. The message says which, at what t, after how many steps."""

    def __init__(self, message, status=None):
        super().__init__(None, None, message)
        self.status = status


# Digits in messages: t exactly (17 significant), h as a magnitude (3 after the point).
_T_DIGITS, _H_DIGITS = 17, 3


def failure_message(code, t, steps, accepted, rejected, max_steps, h=None, component=None):
    what = _DESCRIPTIONS.get(code, f"status {code}")
    if code == MAX_STEPS:
        what = f"max_steps={max_steps} reached before the last output time"
    elif code == STEP_UNDERFLOW and h is not None:
        what = f"step size underflow (h={h:.{_H_DIGITS}e})"
    elif code == NEWTON_FAILURE:
        what = f"{what} (h={h:.{_H_DIGITS}e}, failing component {component})"
    return (f"odeint failed: {what} at t={t:.{_T_DIGITS}g} after {steps} steps ({accepted} accepted, "
            f"{rejected} rejected); {_ADVICE.get(code, '')}.")


def graph_failure_message(code, where, steps, accepted, rejected, max_steps):
    """The same message built from tensors, for graph mode."""
    what = tf.gather(tf.constant([
        _DESCRIPTIONS[SUCCESS],
        f"max_steps={max_steps} reached before the last output time",
        _DESCRIPTIONS[STEP_UNDERFLOW],
        _DESCRIPTIONS[NON_FINITE],
        _DESCRIPTIONS[NEWTON_FAILURE],
    ]), code)
    advice = tf.gather(tf.constant(["", _ADVICE[MAX_STEPS], _ADVICE[STEP_UNDERFLOW], _ADVICE[NON_FINITE],
                                    _ADVICE[NEWTON_FAILURE]]), code)
    step = tf.strings.as_string(where["h"], precision=_H_DIGITS, scientific=True)
    detail = tf.where(code == NEWTON_FAILURE,
                      tf.strings.join([" (h=", step, ", failing component ", tf.strings.as_string(where["component"]),
                                       ")"]),
                      tf.where(code == STEP_UNDERFLOW, tf.strings.join([" (h=", step, ")"]), ""))
    return tf.strings.join([
        "odeint failed: ", what, detail, " at t=",
        tf.strings.as_string(where["t"], precision=_T_DIGITS, shortest=True),
        " after ", tf.strings.as_string(steps), " steps (", tf.strings.as_string(accepted), " accepted, ",
        tf.strings.as_string(rejected), " rejected); ", advice, ".",
    ])

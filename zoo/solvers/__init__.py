"""Pure-TensorFlow ODE solvers.

    from zoo.solvers import odeint, METHODS
    ys = odeint(func, y0, t, method="dopri5", rtol=1e-6, atol=1e-8)
"""

from zoo.solvers.methods import METHODS
from zoo.solvers.odeint import GRADIENT_MODES, odeint
from zoo.solvers.status import SolverError

__all__ = ["odeint", "METHODS", "GRADIENT_MODES", "SolverError"]

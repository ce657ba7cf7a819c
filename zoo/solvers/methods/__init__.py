"""Every method odeint can run, by name."""

from zoo.solvers.methods.bdf import BDF_METHOD
from zoo.solvers.methods.dopri5 import DOPRI5
from zoo.solvers.methods.dopri8 import DOPRI8
from zoo.solvers.methods.explicit import ADAPTIVE_HEUN, BOSH3, EULER, FEHLBERG2, HEUN, MIDPOINT, RK4
from zoo.solvers.methods.radau import RADAU
from zoo.solvers.methods.rodas5p import RODAS5P
from zoo.solvers.methods.tsit5 import TSIT5

_REGISTRY = {m.name: m for m in (DOPRI5, TSIT5, DOPRI8, BOSH3, FEHLBERG2, ADAPTIVE_HEUN, EULER, MIDPOINT, HEUN, RK4,
                                    RADAU, BDF_METHOD, RODAS5P)}

METHODS = tuple(_REGISTRY)


def get_method(name):
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown ODE method {name!r}; choose one of: {', '.join(METHODS)}.") from None

"""Low-order and fixed-step explicit Runge-Kutta tableaus."""

from zoo.solvers.interpolation import HermiteInterpolant, PolynomialInterpolant
from zoo.solvers.methods.base import ExplicitRungeKutta
from zoo.solvers.tableau import ButcherTableau

# Bogacki and Shampine (1989), "A 3(2) pair of Runge-Kutta formulas", Appl. Math. Lett. 2(4), 321-325.
# FSAL; the error estimate uses the derivative at the new point. Cubic Hermite dense output written
# in the stage basis (as scipy's RK23).
BOSH3 = ExplicitRungeKutta(
    "bosh3",
    ButcherTableau(
        c=(0.0, 1 / 2, 3 / 4, 1.0),
        a=((), (1 / 2,), (0.0, 3 / 4), (2 / 9, 1 / 3, 4 / 9)),
        b=(2 / 9, 1 / 3, 4 / 9, 0.0),
        b_error=(5 / 72, -1 / 12, -1 / 9, 1 / 8),
        order=3,
        error_order=2,
    ),
    PolynomialInterpolant(((1.0, -4 / 3, 5 / 9), (0.0, 1.0, -2 / 3), (0.0, 4 / 3, -8 / 9), (0.0, -1.0, 1.0))),
)

# Fehlberg (1969), "Low-order classical Runge-Kutta formulas with stepsize control", NASA TR R-315:
# the RK1(2) pair, propagating the second-order solution.
FEHLBERG2 = ExplicitRungeKutta(
    "fehlberg2",
    ButcherTableau(
        c=(0.0, 1 / 2, 1.0),
        a=((), (1 / 2,), (1 / 256, 255 / 256)),
        b=(1 / 512, 255 / 256, 1 / 512),
        b_error=(-1 / 512, 0.0, 1 / 512),
        order=2,
        error_order=1,
    ),
    HermiteInterpolant(),
)

# Heun's method with the explicit Euler step as its embedded first-order estimate.
ADAPTIVE_HEUN = ExplicitRungeKutta(
    "adaptive_heun",
    ButcherTableau(
        c=(0.0, 1.0),
        a=((), (1.0,)),
        b=(1 / 2, 1 / 2),
        b_error=(-1 / 2, 1 / 2),
        order=2,
        error_order=1,
    ),
    HermiteInterpolant(),
)

EULER = ExplicitRungeKutta(
    "euler", ButcherTableau(c=(0.0,), a=((),), b=(1.0,), order=1), HermiteInterpolant())

# The explicit midpoint rule.
MIDPOINT = ExplicitRungeKutta(
    "midpoint", ButcherTableau(c=(0.0, 1 / 2), a=((), (1 / 2,)), b=(0.0, 1.0), order=2), HermiteInterpolant())

# Heun's second-order method (the explicit trapezoidal rule).
HEUN = ExplicitRungeKutta(
    "heun", ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(1 / 2, 1 / 2), order=2), HermiteInterpolant())

# Kutta (1901): the classical fourth-order method.
RK4 = ExplicitRungeKutta(
    "rk4",
    ButcherTableau(
        c=(0.0, 1 / 2, 1 / 2, 1.0),
        a=((), (1 / 2,), (0.0, 1 / 2), (0.0, 0.0, 1.0)),
        b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
        order=4,
    ),
    HermiteInterpolant(),
)

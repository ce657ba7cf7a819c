"""Tsitouras 5(4)."""

import numpy as np

from zoo.solvers.interpolation import PolynomialInterpolant
from zoo.solvers.methods.base import ExplicitRungeKutta
from zoo.solvers.tableau import ButcherTableau

# Tsitouras (2011), "Runge-Kutta pairs of order 5(4) satisfying only the first column simplifying
# assumption", Comput. Math. Appl. 62(2), 770-775. Coefficients to double precision from Table 1.
_B = (
    0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
    2.324710524099774, 0.0,
)
_B_HAT = (
    0.09468075576583945, 0.009183565540343254, 0.4877705284247616, 1.234297566930479,
    -2.707712349983525, 1.866628418170587, 1 / 66,
)

# The paper's fifth-order continuous extension b_i(theta), in factored form, expanded to powers of
# theta (theta^1 .. theta^4) for the stage-basis interpolant.
_P = np.polynomial.polynomial
_DENSE_FACTORS = (
    (-1.0530884977290216, (0.0, 1.3299890189751412), (1.0, -1.4364028541716351, 0.7139816917074209)),
    (0.1017, (0.0, 0.0), (1.0, -2.1966568338249754, 1.2949852507374631)),
    (2.490627285651252793, (0.0, 0.0), (1.0, -2.38535645472061657, 1.57803468208092486)),
    (-16.54810288924490272, (0.0, 0.0, 1.21712927295533244, 0.61620406037800089), None),
    (47.37952196281928122, (0.0, 0.0, 1.203071208372362603, 0.658047292653547382), None),
    (-34.87065786149660974, (0.0, 0.0, 1.2, 0.666666666666666667), None),
    (2.5, (0.0, 0.0, 1.0, 0.6), None),
)


def _expand(scale, roots, quadratic):
    """scale * prod(theta - root) * (quadratic, highest power first) as theta^1..theta^4 weights."""
    coefficients = _P.polyfromroots(roots) * scale
    if quadratic is not None:
        coefficients = _P.polymul(coefficients, quadratic[::-1])
    coefficients = np.pad(coefficients, (0, 5 - len(coefficients)))
    return tuple(coefficients[1:5])


TSIT5 = ExplicitRungeKutta(
    "tsit5",
    ButcherTableau(
        c=(0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0),
        a=(
            (),
            (0.161,),
            (-0.008480655492356989, 0.335480655492357),
            (2.897153057105493, -6.359448489975075, 4.3622954328695815),
            (5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525),
            (5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383),
            _B[:6],
        ),
        b=_B,
        b_error=tuple(b - b_hat for b, b_hat in zip(_B, _B_HAT)),
        order=5,
        error_order=4,
    ),
    PolynomialInterpolant(tuple(_expand(*factors) for factors in _DENSE_FACTORS)),
)

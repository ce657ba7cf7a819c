"""Dormand-Prince 5(4)."""

from zoo.solvers.interpolation import PolynomialInterpolant
from zoo.solvers.methods.base import ExplicitRungeKutta
from zoo.solvers.tableau import ButcherTableau

# Dormand and Prince (1980), "A family of embedded Runge-Kutta formulae", J. Comput. Appl. Math. 6(1),
# 19-26. Dense output: the fourth-order continuous extension of Dormand and Prince (1986), as in
# Hairer, Norsett and Wanner, "Solving ODEs I", Sec. II.6, written in the stage basis.
DOPRI5 = ExplicitRungeKutta(
    "dopri5",
    ButcherTableau(
        c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
        a=(
            (),
            (1 / 5,),
            (3 / 40, 9 / 40),
            (44 / 45, -56 / 15, 32 / 9),
            (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
            (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
            (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
        ),
        b=(35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
        b_error=(-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40),
        order=5,
        error_order=4,
    ),
    PolynomialInterpolant((
        (1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432),
        (0.0, 0.0, 0.0, 0.0),
        (0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799),
        (0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072),
        (0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632),
        (0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844),
        (0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423),
    )),
)

"""Butcher tableaus: the data that defines an explicit Runge-Kutta method."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ButcherTableau:
    """An explicit Runge-Kutta method with an optional embedded error estimate.

    Stage i is evaluated at ``t + c[i] h`` on ``y + h * sum_j a[i][j] k_j``; the step's solution is
    ``y + h * sum_i b[i] k_i`` and its local error estimate ``h * sum_i b_error[i] k_i``.

    ``fsal`` ("first same as last") methods have a last stage at ``c = 1`` whose row of ``a`` equals
    ``b``: that stage is the derivative at the new point and becomes the next step's first stage.
    For the other methods the integrator evaluates that derivative once a step is accepted.
    """

    c: tuple
    a: tuple
    b: tuple
    order: int
    b_error: tuple | None = None
    error_order: int | None = None

    def __post_init__(self):
        stages = len(self.c)
        if len(self.a) != stages or any(len(row) != i for i, row in enumerate(self.a)):
            raise ValueError("a must be strictly lower triangular: row i has i entries")
        if len(self.b) != stages or (self.b_error is not None and len(self.b_error) != stages):
            raise ValueError("b and b_error need one weight per stage")
        for i, row in enumerate(self.a):
            if abs(sum(row) - self.c[i]) > 1e-12:
                raise ValueError(f"row {i} of a does not sum to c[{i}] = {self.c[i]}")

    @property
    def stages(self):
        return len(self.c)

    @property
    def adaptive(self):
        return self.b_error is not None

    @property
    def fsal(self):
        last = self.a[-1]
        return (self.stages > 1 and self.c[-1] == 1.0 and self.b[-1] == 0.0
                and np.allclose(last, self.b[:-1], rtol=0, atol=1e-15))

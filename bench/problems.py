"""The benchmark problems, in NumPy only, so that every peer's process builds the same inputs.

P1:  dy/dt = W2 tanh(W1 y + b1) + b2, batch 256, state 16, hidden 64, t in [0, 1], dopri5;
     float64 at rtol = atol = 1e-6 and float32 at 1e-3; weights N(0, 1/fan_in).
P1h: P1 with W1 and W2 scaled by 3 and t in [0, 10] (tens to hundreds of steps).
P4:  P1 at batch 1, 64, 1024 and 8192 (float32, 1e-5).
"""

import dataclasses

import numpy as np

STATE, HIDDEN = 16, 64


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    batch: int
    dtype: str
    tol: float
    t_end: float
    weight_scale: float = 1.0

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        w1 = rng.normal(0.0, 1.0 / np.sqrt(STATE), (STATE, HIDDEN)) * self.weight_scale
        b1 = rng.normal(0.0, 1.0, HIDDEN)
        w2 = rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), (HIDDEN, STATE)) * self.weight_scale
        b2 = rng.normal(0.0, 1.0, STATE)
        y0 = rng.normal(0.0, 1.0, (self.batch, STATE))
        return {k: v.astype(self.dtype) for k, v in dict(w1=w1, b1=b1, w2=w2, b2=b2, y0=y0).items()}


CASES = [
    Case("P1 f64", 256, "float64", 1e-6, 1.0),
    Case("P1 f32", 256, "float32", 1e-3, 1.0),
    Case("P1h f64", 256, "float64", 1e-6, 10.0, 3.0),
    Case("P1h f32", 256, "float32", 1e-3, 10.0, 3.0),
] + [Case(f"P4 b{b}", b, "float32", 1e-5, 1.0) for b in (1, 64, 1024, 8192)]


def numpy_dynamics(a):
    w1, b1, w2, b2 = (a[k].astype(np.float64) for k in ("w1", "b1", "w2", "b2"))

    def func(t, y):
        y = y.reshape(-1, STATE)
        return (np.tanh(y @ w1 + b1) @ w2 + b2).ravel()

    return func

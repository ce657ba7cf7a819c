"""Times diffrax's Dopri5 with a PIDController, jitted, on one benchmark case. Runs in .bench/jax."""

import json
import statistics
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, sys.argv[1])
from problems import CASES  # noqa: E402

case = next(c for c in CASES if c.name == sys.argv[2])
a = {k: jnp.asarray(v) for k, v in case.arrays().items()}


def func(t, y, args):
    return jnp.tanh(y @ a["w1"] + a["b1"]) @ a["w2"] + a["b2"]


@jax.jit
def solve(y0):
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(func), diffrax.Dopri5(), t0=0.0, t1=case.t_end, dt0=None, y0=y0,
        stepsize_controller=diffrax.PIDController(rtol=case.tol, atol=case.tol),
        saveat=diffrax.SaveAt(t1=True), max_steps=100_000)
    return solution.ys[-1], solution.stats["num_steps"]


start = time.perf_counter()
y, steps = solve(a["y0"])
y.block_until_ready()
first = time.perf_counter() - start
times = []
for _ in range(21):
    start = time.perf_counter()
    y, steps = solve(a["y0"])
    y.block_until_ready()
    times.append(time.perf_counter() - start)
median = statistics.median(times)
# Dopri5 is FSAL: six evaluations a step, plus the first derivative and the initial-step probe.
print(json.dumps({"time": median, "compile": first - median, "nfe": 6 * int(steps) + 2,
                  "y_final": np.asarray(y, dtype=np.float64).ravel().tolist()}))

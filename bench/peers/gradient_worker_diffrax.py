"""diffrax's side of bench/gradients.py (memory only); prints one JSON line. Runs in .bench/jax.

memory MODE STEPS: one jitted gradient of sum(y(1)^2) by RK4 with DirectAdjoint (direct),
RecursiveCheckpointAdjoint (checkpoint) or BacksolveAdjoint (adjoint).
"""

import json
import resource
import statistics
import sys
import time

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, sys.argv[1])
from gradients import MEMORY_CASE  # noqa: E402

ADJOINTS = {"direct": diffrax.DirectAdjoint, "checkpoint": diffrax.RecursiveCheckpointAdjoint,
            "adjoint": diffrax.BacksolveAdjoint}


class RK4(diffrax.AbstractERK):
    """The classical fourth-order Runge-Kutta method (diffrax ships no fixed-step RK4)."""

    tableau = diffrax.ButcherTableau(
        c=np.array([0.5, 0.5, 1.0]), b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]), b_error=np.zeros(4),
        a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])))
    interpolation_cls = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        return 4


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(mode, steps):
    arrays = {k: jnp.asarray(v) for k, v in MEMORY_CASE.arrays().items()}
    params = {k: arrays[k] for k in ("w1", "b1", "w2", "b2")}

    def func(t, y, p):
        return jnp.tanh(y @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]

    def loss(y0, p):
        solution = diffrax.diffeqsolve(diffrax.ODETerm(func), RK4(), t0=0.0, t1=1.0, dt0=1.0 / steps,
                                       y0=y0, args=p, saveat=diffrax.SaveAt(t1=True), max_steps=steps + 10,
                                       adjoint=ADJOINTS[mode]())
        return jnp.sum(solution.ys[-1] ** 2)

    gradient = jax.jit(jax.grad(loss, argnums=(0, 1)))
    baseline = peak_rss_mb()
    jax.block_until_ready(gradient(arrays["y0"], params))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(gradient(arrays["y0"], params))
        times.append(time.perf_counter() - start)
    peak = peak_rss_mb()
    return {"time": statistics.median(times), "peak": peak, "delta": peak - baseline}


if sys.argv[2] != "memory":
    raise SystemExit("diffrax worker: only the memory benchmark")
print(json.dumps(memory(sys.argv[3], int(sys.argv[4]))))

"""diffrax Kvaerno5 (jitted) on one stiff problem, or on the batch of 1024 Van der Pol systems via vmap.
Runs in .bench/jax; prints one JSON line."""

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
from stiff_problems import stiff_problems, van_der_pol_stiff  # noqa: E402

name, rtol, atol = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])


def solve_one(rhs, y0, t0, t1, args=None):
    term = diffrax.ODETerm(lambda t, y, mu: rhs(y, jnp.stack) if mu is None else van_der_pol_stiff(y, jnp.stack, mu))
    return diffrax.diffeqsolve(term, diffrax.Kvaerno5(), t0=t0, t1=t1, dt0=None, y0=y0, args=args,
                               stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
                               saveat=diffrax.SaveAt(t1=True), max_steps=1_000_000)


result = {}
if name == "vdp_batch":
    mu = jnp.asarray(np.linspace(1.0, 100.0, 1024))
    y0 = jnp.tile(jnp.asarray([2.0, 0.0]), (1024, 1))
    solve = jax.jit(jax.vmap(lambda y, m: solve_one(None, y, 0.0, 10.0, m).ys[-1]))
    call = lambda: solve(y0, mu).block_until_ready()  # noqa: E731
else:
    problem = next(p for p in stiff_problems() if p.name == name)
    y0 = jnp.asarray(problem.y0)
    solve = jax.jit(lambda y: solve_one(problem.rhs, y, float(problem.t[0]), float(problem.t[-1])))

    def call():
        solution = solve(y0)
        solution.ys.block_until_ready()
        return solution

start = time.perf_counter()
solution = call()
first = time.perf_counter() - start
if name != "vdp_batch":
    # Kvaerno5 is ESDIRK: five implicit stages a step, each a few Newton evaluations; report steps x 5
    # as a lower bound of its evaluations.
    result.update(nfe=int(solution.stats["num_steps"]) * 5, y_final=np.asarray(solution.ys[-1]).tolist())
times = []
for _ in range(5):
    start = time.perf_counter()
    call()
    times.append(time.perf_counter() - start)
result.update(time=statistics.median(times), compile=first - statistics.median(times))
print(json.dumps(result))

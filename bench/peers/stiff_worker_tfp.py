"""TensorFlow Probability's BDF under XLA on one stiff problem. Runs with .venv's interpreter and
.bench/tfp on PYTHONPATH; prints one JSON line."""

import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

sys.path.insert(0, sys.argv[1])
from stiff_problems import stiff_problems  # noqa: E402

name, rtol, atol = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
problem = next(p for p in stiff_problems() if p.name == name)


@tf.function(jit_compile=True)
def solve(y0):
    results = tfp.math.ode.BDF(rtol=rtol, atol=atol).solve(
        lambda t, y: problem.rhs(y, tf.stack), float(problem.t[0]), y0, solution_times=[float(problem.t[-1])])
    return results.states[-1], results.diagnostics.num_ode_fn_evaluations, results.diagnostics.num_jacobian_evaluations


y0 = tf.constant(problem.y0)
start = time.perf_counter()
y, nfe, njev = solve(y0)
y.numpy()
first = time.perf_counter() - start
times = []
for _ in range(5):
    start = time.perf_counter()
    solve(y0)[0].numpy()
    times.append(time.perf_counter() - start)
median = statistics.median(times)
print(json.dumps({"time": median, "compile": first - median, "nfe": int(nfe), "njev": int(njev),
                  "y_final": y.numpy().tolist()}))

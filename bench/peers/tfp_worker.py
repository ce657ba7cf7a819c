"""Times TensorFlow Probability's DormandPrince under XLA on one benchmark case.

Runs with .venv's interpreter and .bench/tfp on PYTHONPATH (TFP needs the same TensorFlow)."""

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
from problems import CASES  # noqa: E402

case = next(c for c in CASES if c.name == sys.argv[2])
a = {k: tf.constant(v) for k, v in case.arrays().items()}


def func(t, y):
    return tf.tanh(y @ a["w1"] + a["b1"]) @ a["w2"] + a["b2"]


@tf.function(jit_compile=True)
def solve(y0):
    solver = tfp.math.ode.DormandPrince(rtol=case.tol, atol=case.tol)
    results = solver.solve(func, 0.0, y0, solution_times=[case.t_end])
    return results.states[-1], results.diagnostics.num_ode_fn_evaluations


start = time.perf_counter()
y, nfe = solve(a["y0"])
y.numpy()
first = time.perf_counter() - start
times = []
for _ in range(21):
    start = time.perf_counter()
    y, nfe = solve(a["y0"])
    y.numpy()
    times.append(time.perf_counter() - start)
median = statistics.median(times)
print(json.dumps({"time": median, "compile": first - median, "nfe": int(nfe),
                  "y_final": y.numpy().astype(np.float64).ravel().tolist()}))

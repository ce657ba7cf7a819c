"""Times torchdiffeq's dopri5 on one benchmark case; prints one JSON line. Runs in .bench/torch."""

import json
import statistics
import sys
import time

import numpy as np
import torch
from torchdiffeq import odeint

sys.path.insert(0, sys.argv[1])
from problems import CASES  # noqa: E402

case = next(c for c in CASES if c.name == sys.argv[2])
a = {k: torch.from_numpy(v) for k, v in case.arrays().items()}
calls = [0]


def func(t, y):
    calls[0] += 1
    return torch.tanh(y @ a["w1"] + a["b1"]) @ a["w2"] + a["b2"]


t = torch.tensor([0.0, case.t_end], dtype=a["y0"].dtype)
times = []
with torch.no_grad():
    for _ in range(22):
        calls[0] = 0
        start = time.perf_counter()
        ys = odeint(func, a["y0"], t, rtol=case.tol, atol=case.tol, method="dopri5")
        times.append(time.perf_counter() - start)
print(json.dumps({"time": statistics.median(times[1:]), "compile": 0.0, "nfe": calls[0],
                  "y_final": ys[-1].numpy().astype(np.float64).ravel().tolist()}))

"""torchdiffeq's side of bench/gradients.py; prints one JSON line. Runs in .bench/torch.

memory MODE STEPS: one gradient of sum(y(1)^2) by rk4 with `odeint` (direct) or `odeint_adjoint`.
seminorm CASE: backward evaluations of the dopri5 adjoint with and without the seminorm.
"""

import json
import resource
import statistics
import sys
import time

import torch
from torchdiffeq import odeint, odeint_adjoint

sys.path.insert(0, sys.argv[1])
from gradients import MEMORY_CASE  # noqa: E402
from problems import CASES  # noqa: E402

torch.set_num_threads(max(torch.get_num_threads(), 1))


class Dynamics(torch.nn.Module):
    def __init__(self, arrays):
        super().__init__()
        for name in ("w1", "b1", "w2", "b2"):
            setattr(self, name, torch.nn.Parameter(torch.from_numpy(arrays[name])))
        self.calls = 0

    def forward(self, t, y):
        self.calls += 1
        return torch.tanh(y @ self.w1 + self.b1) @ self.w2 + self.b2


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(mode, steps):
    arrays = MEMORY_CASE.arrays()
    func = Dynamics(arrays)
    y0 = torch.from_numpy(arrays["y0"]).requires_grad_()
    t = torch.tensor([0.0, 1.0])
    solve = odeint if mode == "direct" else odeint_adjoint

    def gradient():
        loss = (solve(func, y0, t, method="rk4", options=dict(step_size=1.0 / steps))[-1] ** 2).sum()
        return torch.autograd.grad(loss, [y0, *func.parameters()])

    baseline = peak_rss_mb()
    gradient()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        gradient()
        times.append(time.perf_counter() - start)
    peak = peak_rss_mb()
    return {"time": statistics.median(times), "peak": peak, "delta": peak - baseline}


def seminorm(case_name):
    case = next(c for c in CASES if c.name == case_name)
    arrays = case.arrays()
    func = Dynamics(arrays)
    y0 = torch.from_numpy(arrays["y0"])
    t = torch.tensor([0.0, case.t_end], dtype=y0.dtype)
    result = {}
    for name, options in (("seminorm", dict(norm="seminorm")), ("full", None)):
        ys = odeint_adjoint(func, y0, t, rtol=case.tol, atol=case.tol, method="dopri5", adjoint_options=options)
        loss = (ys[-1] ** 2).sum()
        func.calls = 0
        torch.autograd.grad(loss, list(func.parameters()))
        result[name] = func.calls
    return result


kind = sys.argv[2]
print(json.dumps(memory(sys.argv[3], int(sys.argv[4])) if kind == "memory" else seminorm(sys.argv[3])))

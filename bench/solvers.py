"""Forward-solve benchmark of zoo.solvers' dopri5 against scipy, torchdiffeq, diffrax and TFP.

every library solves the same cases (bench/problems.py) in this one run, each peer in its own
process and environment (`make bench-peers` installs them under .bench/). Times are medians of 5
after a warm-up; compile time is reported apart. Errors are against scipy's DOP853 at 1e-12.
The overhead ratio is wall time / (NFE x the time of one func call), one call being timed inside a
compiled loop of chained calls, so it counts everything the solver adds to the dynamics' own cost.

Run: make bench   (or .venv/bin/python3 bench/solvers.py [--cases "P1 f32,P4 b1024"])
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from problems import CASES, STATE, numpy_dynamics  # noqa: E402
from timing import timed  # noqa: E402

from zoo.solvers import odeint  # noqa: E402

PEERS = {
    "torchdiffeq": (ROOT / ".bench/torch/bin/python", BENCH / "peers/torchdiffeq_worker.py", {}),
    "diffrax": (ROOT / ".bench/jax/bin/python", BENCH / "peers/diffrax_worker.py", {}),
    "tfp+xla": (Path(sys.executable), BENCH / "peers/tfp_worker.py", {"PYTHONPATH": str(ROOT / ".bench/tfp")}),
}


REPEATS = 21


def run_ours(case, jit):
    a = {k: tf.constant(v) for k, v in case.arrays().items()}

    def func(t, y):
        return tf.tanh(y @ a["w1"] + a["b1"]) @ a["w2"] + a["b2"]

    t = tf.constant([0.0, case.t_end], a["y0"].dtype)
    final_state = tf.function(lambda y0: odeint(func, y0, t, rtol=case.tol, atol=case.tol)[-1], jit_compile=jit)
    stats = tf.function(lambda y0: odeint(func, y0, t, rtol=case.tol, atol=case.tol, return_stats=True)[1],
                        jit_compile=jit)

    def call():
        return final_state(a["y0"]).numpy()

    median, compile_time, _ = timed(call, REPEATS)
    y_final, nfe = call(), int(stats(a["y0"])["nfe"])

    chain = 50

    @tf.function(jit_compile=jit)
    def chained(y):
        return tf.while_loop(lambda i, y: i < chain, lambda i, y: (i + 1, y + 1e-3 * func(0.0, y)),
                             (tf.constant(0), y))[1]

    per_call, _, _ = timed(lambda: chained(a["y0"]).numpy(), REPEATS)
    per_call /= chain
    return {"time": median, "compile": compile_time, "nfe": nfe, "y_final": y_final.ravel(),
            "overhead": median / (nfe * per_call)}


def run_scipy(case):
    a = case.arrays()
    func = numpy_dynamics(a)
    y0 = a["y0"].astype(np.float64).ravel()
    result = {}

    def call():
        solution = solve_ivp(func, (0.0, case.t_end), y0, method="RK45", rtol=case.tol, atol=case.tol)
        result["y"], result["nfe"] = solution.y[:, -1], solution.nfev

    median, _, _ = timed(call, REPEATS)
    return {"time": median, "compile": 0.0, "nfe": result["nfe"], "y_final": result["y"]}


def run_peer(name, case):
    python, script, env = PEERS[name]
    if not python.exists():
        return None
    completed = subprocess.run([str(python), str(script), str(BENCH), case.name], capture_output=True, text=True,
                               env={**os.environ, **env}, timeout=1800)
    if completed.returncode != 0:
        print(f"  {name} failed on {case.name}: {completed.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["y_final"] = np.asarray(result["y_final"])
    return result


def reference(case):
    a = case.arrays()
    solution = solve_ivp(numpy_dynamics(a), (0.0, case.t_end), a["y0"].astype(np.float64).ravel(),
                         method="DOP853", rtol=1e-12, atol=1e-12)
    return solution.y[:, -1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    args = parser.parse_args()
    selected = [c for c in CASES if c.name in args.cases.split(",")]
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, state {STATE}; times in ms (median of {REPEATS}); "
          "ratio = ours (XLA) / peer, below 1 means we are faster")
    header = (f"{'case':<9} {'ours xla':>9} {'ours graph':>10} {'compile s':>9} {'nfe':>5} {'error':>8} {'overhd':>6} | "
              + " | ".join(f"{name:>26}" for name in ["scipy RK45", *PEERS]))
    print(header)
    print("-" * len(header))
    for case in selected:
        ref = reference(case)
        xla, graph = run_ours(case, jit=True), run_ours(case, jit=False)
        error = np.max(np.abs(xla["y_final"] - ref))
        row = (f"{case.name:<9} {xla['time'] * 1e3:9.2f} {graph['time'] * 1e3:10.2f} {xla['compile']:9.2f} "
               f"{xla['nfe']:5d} {error:8.1e} {xla['overhead']:6.2f} |")
        peers = {"scipy RK45": run_scipy(case), **{name: run_peer(name, case) for name in PEERS}}
        cells = []
        for name, result in peers.items():
            if result is None:
                cells.append(f"{'not installed':>26}")
                continue
            peer_error = np.max(np.abs(result["y_final"] - ref))
            cells.append(f"{result['time'] * 1e3:7.2f}ms {result['nfe']:4d} {peer_error:7.1e} x{xla['time'] / result['time']:.2f}")
        print(row + " " + " | ".join(cells), flush=True)
    print("peer cells: time, nfe, error, ratio ours/peer")


if __name__ == "__main__":
    main()

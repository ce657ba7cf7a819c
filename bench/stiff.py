"""Stiff-solver benchmark: zoo.solvers' radau, bdf and rodas5p against scipy's Radau, BDF and LSODA,
and, where `make bench-peers` installed them, diffrax's Kvaerno5 (jitted) and TFP's BDF (XLA).

Each problem of the IVP test set (tests/stiff_problems.py) at rtol = atol = 1e-6 (Robertson's atol
1e-10): wall time (median of 5 after a warm-up, compile time apart), NFE, Jacobian evaluations, and
error against scipy's Radau at rtol=1e-12. Then a batch of 1024 independent Van der Pol systems
(mu from 1 to 100, t in [0, 10]) through the block-diagonal path, against diffrax vmapped.

Run: make bench   (or .venv/bin/python3 bench/stiff.py [--problems robertson,hires] [--max-steps 2000]);
--max-steps passes that bound to every solve of ours (a forward solve must cost the same at any bound).
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
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))
from stiff_problems import stiff_problems  # noqa: E402
sys.path.insert(0, str(BENCH))
from timing import timed  # noqa: E402

from zoo.solvers import odeint  # noqa: E402

OURS = ("radau", "bdf", "rodas5p")
SCIPY = ("Radau", "BDF", "LSODA")
PEERS = {
    "diffrax Kvaerno5": (ROOT / ".bench/jax/bin/python", BENCH / "peers/stiff_worker_diffrax.py", {}),
    "tfp BDF+xla": (Path(sys.executable), BENCH / "peers/stiff_worker_tfp.py", {"PYTHONPATH": str(ROOT / ".bench/tfp")}),
}


def tolerances(problem):
    return 1e-6, (1e-10 if problem.name == "robertson" else 1e-6)


def run_ours(problem, method, jit, limits):
    rtol, atol = tolerances(problem)
    t = tf.constant([problem.t[0], problem.t[-1]], tf.float64)
    solve = tf.function(lambda y0: odeint(problem.tf_func, y0, t, method=method, rtol=rtol, atol=atol,
                                          return_stats=True, **limits), jit_compile=jit)
    y0 = tf.constant(problem.y0)

    def call():
        ys, stats = solve(y0)
        return ys[-1].numpy(), {k: int(v) for k, v in stats.items()}

    median, compile_time, (y, stats) = timed(call, 5)
    return {"time": median, "compile": compile_time, "nfe": stats["nfe"], "njev": stats["jacobian_evals"], "y": y}


def run_scipy(problem, method):
    rtol, atol = tolerances(problem)
    median, _, solution = timed(lambda: solve_ivp(problem.np_func, (problem.t[0], problem.t[-1]), problem.y0,
                                                  method=method, rtol=rtol, atol=atol), 5)
    if not solution.success:
        return {"failed": solution.message}
    return {"time": median, "compile": 0.0, "nfe": solution.nfev, "njev": solution.njev, "y": solution.y[:, -1]}


def run_peer(name, problem_name, rtol, atol):
    python, script, env = PEERS[name]
    if not python.exists():
        return None
    done = subprocess.run([str(python), str(script), str(TESTS), problem_name, str(rtol), str(atol)],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=3600)
    if done.returncode != 0:
        print(f"  {name} failed on {problem_name}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "y_final" in result:
        result["y"] = np.asarray(result["y_final"])
    return result


def error(y, reference, problem):
    rtol, atol = tolerances(problem)
    return float(np.max(np.abs(y - reference) / (atol / rtol + np.abs(reference))))


def batched_van_der_pol(limits):
    mu = tf.constant(np.linspace(1.0, 100.0, 1024))
    y0 = tf.tile(tf.constant([[2.0, 0.0]], tf.float64), [1024, 1])
    t = tf.constant([0.0, 10.0], tf.float64)

    def func(t, y):
        return tf.stack([y[:, 1], mu * (1 - y[:, 0] ** 2) * y[:, 1] - y[:, 0]], axis=1)

    rows = {}
    for method in OURS:
        solve = tf.function(lambda y0: odeint(func, y0, t, method=method, rtol=1e-6, atol=1e-6,
                                              independent_batch=True, **limits)[-1], jit_compile=True)
        median, compile_time, _ = timed(lambda: solve(y0).numpy(), 5)
        rows[method] = (median, compile_time)
    peer = run_peer("diffrax Kvaerno5", "vdp_batch", 1e-6, 1e-6)
    print("\nBatch of 1024 independent Van der Pol systems (mu 1..100, t 0..10, rtol=atol=1e-6), XLA, "
          "block-diagonal path:")
    for method, (median, compile_time) in rows.items():
        ratio = (f"x{median / peer['time']:.2f} vs diffrax vmap ({peer['time'] * 1e3:.1f} ms)" if peer
                 else "diffrax not installed or failed")
        print(f"  {method:<8} {median * 1e3:9.1f} ms (compile {compile_time:.1f} s)  {ratio}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default=",".join(p.name for p in stiff_problems()))
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--max-steps", type=int, help="max_steps of our solves (default: odeint's)")
    args = parser.parse_args()
    limits = {} if args.max_steps is None else {"max_steps": args.max_steps}
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs; ms = median of 5; err = max |y - ref| / "
          "(atol/rtol + |ref|) at the end time; ratio = our time / that peer's; our max_steps: "
          f"{args.max_steps or 'default'}")
    for problem in (p for p in stiff_problems() if p.name in args.problems.split(",")):
        rtol, atol = tolerances(problem)
        reference = solve_ivp(problem.np_func, (problem.t[0], problem.t[-1]), problem.y0, method="Radau",
                              rtol=1e-12, atol=1e-14).y[:, -1]
        results = {}
        for method in OURS:
            results[f"ours {method} xla"] = run_ours(problem, method, jit=True, limits=limits)
            results[f"ours {method} graph"] = run_ours(problem, method, jit=False, limits=limits)
        for method in SCIPY:
            results[f"scipy {method}"] = run_scipy(problem, method)
        for name in PEERS:
            results[name] = run_peer(name, problem.name, rtol, atol)
        peers = [name for name in results
                 if not name.startswith("ours") and results[name] is not None and "failed" not in results[name]]
        print(f"\n{problem.name} (rtol {rtol:g}, atol {atol:g}):")
        for name, result in results.items():
            if result is None:
                print(f"  {name:<22} not installed or failed")
                continue
            if "failed" in result:
                print(f"  {name:<22} FAILED: {result['failed']}")
                continue
            err = error(result["y"], reference, problem) if "y" in result else float("nan")
            line = (f"  {name:<22} {result['time'] * 1e3:9.1f} ms  compile {result['compile']:5.1f} s  "
                    f"nfe {result['nfe']:6d}  njev {result.get('njev', -1):5d}  err {err:8.1e}")
            if name.startswith("ours") and peers:
                line += "  " + " ".join(f"{peer.split()[0]}/{peer.split()[1]}:x{result['time'] / results[peer]['time']:.2f}"
                                        for peer in peers)
            print(line, flush=True)
    if not args.skip_batch:
        batched_van_der_pol(limits)


if __name__ == "__main__":
    main()

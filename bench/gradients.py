"""Gradient benchmark: memory and time of one gradient per gradient mode, against torchdiffeq and
diffrax, and the backward evaluations the adjoint's seminorm saves.

Part 1. The P1 dynamics (bench/problems.py) at batch 64 in float32, loss = sum(y(1)^2), solved by
fixed-step rk4 with 100, 1,000 and 10,000 steps; one gradient with respect to y0 and the weights.
Every (library, mode, steps) runs in a fresh process: peak RSS is the process's maximum resident set
(ru_maxrss) after a warm-up gradient and 3 timed ones; "delta" is that peak minus the RSS before the
first solve (libraries and inputs loaded). Time is the median of the 3. Peers: torchdiffeq `odeint`
(direct) and `odeint_adjoint` (adjoint); diffrax `DirectAdjoint` (direct),
`RecursiveCheckpointAdjoint` (checkpoint) and `BacksolveAdjoint` (adjoint), jitted.

Part 2. Backward evaluations of the adaptive adjoint (dopri5) on P1 with and without the seminorm,
ours and torchdiffeq's (adjoint_options=dict(norm="seminorm")).

Run: .venv/bin/python3 bench/gradients.py [--steps 100,1000,10000]   (peers: make bench-peers)
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from problems import CASES, Case  # noqa: E402

MEMORY_CASE = Case("grad b64", 64, "float32", 1e-6, 1.0)
MODES = ("direct", "checkpoint", "adjoint")
PEERS = {
    "torchdiffeq": (ROOT / ".bench/torch/bin/python", BENCH / "peers/gradient_worker_torch.py"),
    "diffrax": (ROOT / ".bench/jax/bin/python", BENCH / "peers/gradient_worker_diffrax.py"),
}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours_memory(mode, steps):
    """One process's measurement: our gradient with ``mode`` at ``steps`` rk4 steps."""
    import tensorflow as tf

    from zoo.solvers import odeint

    a = MEMORY_CASE.arrays()
    weights = [tf.Variable(a[k]) for k in ("w1", "b1", "w2", "b2")]
    y0 = tf.constant(a["y0"])
    t = tf.constant([0.0, 1.0])

    def func(t, y):
        w1, b1, w2, b2 = weights
        return tf.tanh(y @ w1 + b1) @ w2 + b2

    @tf.function
    def gradient(y0):
        with tf.GradientTape() as tape:
            tape.watch(y0)
            loss = tf.reduce_sum(odeint(func, y0, t, method="rk4", step_size=1.0 / steps, gradient=mode,
                                        max_steps=steps + 10) ** 2)
        return tape.gradient(loss, [y0] + weights)

    baseline = peak_rss_mb()
    [g.numpy() for g in gradient(y0)]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        [g.numpy() for g in gradient(y0)]
        times.append(time.perf_counter() - start)
    peak = peak_rss_mb()
    return {"time": statistics.median(times), "peak": peak, "delta": peak - baseline}


def ours_seminorm(case_name):
    import tensorflow as tf

    from zoo.solvers import odeint

    case = next(c for c in CASES if c.name == case_name)
    a = {k: tf.Variable(v) for k, v in case.arrays().items() if k != "y0"}
    y0 = tf.constant(case.arrays()["y0"])
    t = tf.constant([0.0, case.t_end], y0.dtype)

    def func(t, y):
        return tf.tanh(y @ a["w1"] + a["b1"]) @ a["w2"] + a["b2"]

    result = {}
    for seminorm in (True, False):
        with tf.GradientTape() as tape:
            ys, stats = odeint(func, y0, t, rtol=case.tol, atol=case.tol, gradient="adjoint",
                               adjoint_seminorm=seminorm, return_stats=True)
            loss = tf.reduce_sum(ys[-1] ** 2)
        tape.gradient(loss, list(a.values()))
        result["seminorm" if seminorm else "full"] = int(stats["backward_nfe"].numpy())
    return result


def in_process(args, python=None, script=None):
    command = [str(python or sys.executable), str(script or __file__)] + [str(x) for x in args]
    env = dict(os.environ)
    if script is None:
        env["PYTHONPATH"] = str(ROOT)
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["(no output)"]
        print(f"  {' '.join(map(str, args))} failed: {tail[0][:200]}", file=sys.stderr)
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def peer(name, *args):
    python, script = PEERS[name]
    if not python.exists():
        return "missing"
    return in_process([BENCH, *args], python=python, script=script)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="100,1000,10000")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = ours_memory(rest[0], int(rest[1])) if kind == "memory" else ours_seminorm(rest[0])
        print(json.dumps(result))
        return

    steps_list = [int(s) for s in args.steps.split(",")]
    print(f"Part 1: one gradient, rk4, batch {MEMORY_CASE.batch}, float32; peak RSS MB (delta over the loaded "
          "process), time ms (median of 3); ratio = ours / peer time")
    header = f"{'mode':<10} {'steps':>6} | {'ours':>26} | {'torchdiffeq':>34} | {'diffrax':>34}"
    print(header)
    print("-" * len(header))
    peer_modes = {"torchdiffeq": {"direct": "direct", "adjoint": "adjoint"},
                  "diffrax": {"direct": "direct", "checkpoint": "checkpoint", "adjoint": "adjoint"}}
    ours_peaks = {}
    for mode in MODES:
        for steps in steps_list:
            ours = in_process(["--worker", "memory", mode, steps])
            cells = [f"{ours['peak']:7.0f} ({ours['delta']:6.0f}) {ours['time'] * 1e3:8.1f}ms" if ours else
                     f"{'failed':>26}"]
            if ours:
                ours_peaks[(mode, steps)] = ours["peak"]
            for name in PEERS:
                if mode not in peer_modes[name]:
                    cells.append(f"{'(no such mode)':>34}")
                    continue
                result = peer(name, "memory", peer_modes[name][mode], steps)
                if result in ("missing", None):
                    cells.append(f"{'not installed' if result == 'missing' else 'failed':>34}")
                    continue
                ratio = f"x{ours['time'] / result['time']:.2f}" if ours else ""
                cells.append(f"{result['peak']:7.0f} ({result['delta']:6.0f}) {result['time'] * 1e3:8.1f}ms {ratio:>6}")
            print(f"{mode:<10} {steps:>6} | " + " | ".join(cells), flush=True)
    if ("adjoint", steps_list[0]) in ours_peaks and ("adjoint", steps_list[-1]) in ours_peaks:
        print(f"ours adjoint: peak at {steps_list[-1]} steps / peak at {steps_list[0]} steps = "
              f"{ours_peaks[('adjoint', steps_list[-1])] / ours_peaks[('adjoint', steps_list[0])]:.2f}")

    print("\nPart 2: backward evaluations of the dopri5 adjoint on P1 (seminorm / full norm)")
    for case_name in ("P1 f64", "P1 f32"):
        ours = in_process(["--worker", "seminorm", case_name])
        torch = peer("torchdiffeq", "seminorm", case_name)
        line = f"{case_name}: ours {ours['seminorm']} / {ours['full']} ({1 - ours['seminorm'] / ours['full']:.0%} fewer)"
        if isinstance(torch, dict):
            line += (f"; torchdiffeq {torch['seminorm']} / {torch['full']} "
                     f"({1 - torch['seminorm'] / torch['full']:.0%} fewer)")
        print(line, flush=True)


if __name__ == "__main__":
    main()

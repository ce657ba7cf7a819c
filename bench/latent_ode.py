"""Latent ODE training benchmark: iterations per second and NFE against torchdiffeq's spiral example.

The model is Chen et al.'s latent ODE on the spirals, as torchdiffeq's ``examples/latent_ode.py``
trains it: a recognition RNN (25 tanh units) run backwards over the 100 observed points of every
spiral, z0 of 4 latents sampled from q(z0), dz/dt = f(z) solved with dopri5 at torchdiffeq's
default tolerances (rtol 1e-7, atol 1e-9; the example passes none) at the 100 shared observation
times, a decoder 4 -> 20 -> 2 (ReLU), the Gaussian log-likelihood of the observed (noisy) points at
a fixed noise std of 0.3 plus the KL to N(0, I), and Adam at 1e-2, the whole data set (1000 spirals)
as one batch. Both sides get the same NumPy batch (``zoo.datasets.spirals_arrays``, whose generator
is the example's ``generate_spiral2d`` at its settings) and run in fresh processes: a few warm-up
iterations, then iterations per second over ``--iterations``, the mean forward NFE per iteration,
and the process's peak RSS.

Ours is ``zoo.LatentODE(encoder="rnn", dynamics_units=(20, 20), hidden_units=(20,), activation="elu",
learn_noise=False, observation_noise=0.3, method="dopri5", rtol=1e-7, atol=1e-9)`` as the zoo builds
it, in four ways: ``keras``/``keras+xla``: ``compile()`` (its default loss, the negative ELBO, and
metric) then ``train_on_batch``, without and with ``jit_compile``; ``step``/``step+xla``: a
``tf.function`` train step (GradientTape over ``model.negative_elbo``, the compiled optimizer's
``apply_gradients``). NFE comes from the model's own ``nfe_forward`` metric (the latent
trajectory's ``MeanPerBatch``: the solver adds each solve's forward NFE to ``total``, every solve
adds 1 to ``batches``), reset before each iteration and read after it (``train_on_batch`` resets
the model's metrics itself); the NFE per iteration is the sum over the iteration's solves, and the
cell shows the solves per iteration and the rows each solve integrates. The ``+xla`` modes are
not run by default: LatentTrajectory solves on the sorted ``tf.unique`` of every row's query times,
whose size XLA bounds by rows x Q + 1 (100,001 output times at batch 1000, though all rows share
100), and the step record that a taped XLA solve reserves for that
output array asks for tens of GiB; at batch 10 they run, slower than without XLA.

``--threads N`` pins both libraries to N CPU threads. On a loaded machine (other processes on the
cores) torch's default pool of one thread per core can slow down by an order of magnitude (its
OpenMP workers wait on each other); compare with ``--threads 1`` before reading a ratio.

The same on both sides: the latent dynamics (4 -> 20 -> 20 -> 4, ELU: torchdiffeq's LatentODEfunc
is LatentODE's default ``dynamics_units``), the decoder (4 -> 20 -> 2, ReLU), the recognition RNN's
size (25 tanh units, run from the last point to the first, read out linearly to q(z0)), the data,
the solver and its tolerances, the optimizer. Differences that remain:
  * The encoder's inputs and read-out: ours (``PosteriorEncoder(encoder="rnn")``) feeds the RNN the
    masked values and the mask (4 inputs, not 2; the mask is all ones here, so its weights act as a
    second bias) and masks its steps, and takes std = softplus(.) + 1e-6 where theirs takes
    exp(logvar / 2).
  * The loss: ours is the one-sample Monte Carlo ELBO (log p(z0) - log q(z0) at the sampled z0),
    per target value (divided by 200); theirs the analytic KL, summed per series. The gradients'
    scale differs by that factor, which Adam mostly absorbs (ours is given torch's epsilon, 1e-8).
  * What one iteration solves: torchdiffeq solves the B sampled z0 once; so do ``keras``
    (LatentODE's own train step, whose mse metric reads the first sample's prediction) and
    ``step``.
  * Initial weights (Keras's Glorot uniform, zero biases; torch's uniform fan-in) and the random z0
    noise differ, so the trajectories, hence the step counts, differ between the two sides; the
    ``nfe/s`` column (forward evaluations per second, NFE x iterations/s) factors that out.
  * Step-size control is each library's own controller (factors, safety); both use the mixed RMS
    norm over the whole batch, Hairer's initial step and dopri5's dense output at the output times.

Run: .venv/bin/python3 bench/latent_ode.py [--iterations N] [--batch B] [--quick] [--threads N] [--modes M,...]   (peers: make bench-peers)
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TORCH = ROOT / ".bench/torch/bin/python"
DATA = ROOT / ".bench/latent_ode_batch.npz"
MODES = ("keras", "step", "keras+xla", "step+xla")
DEFAULT_MODES = ("keras", "step")  # the +xla modes run out of memory at batch 1000 (see the docstring)
LATENT, HIDDEN, RNN_UNITS, NOISE_STD, LR, RTOL, ATOL = 4, 20, 25, 0.3, 0.01, 1e-7, 1e-9
# Under XLA a solve under a gradient tape reserves max_steps entries of its step record (LatentODE's
# default 10,000 asks for ~56 GiB at batch 1000); these solves take ~15 steps, so 200 is ample (a
# solve that ran out would give NaN, which the worker reports as a failure).
XLA_MAX_STEPS = 200


def spirals_batch(batch):
    """The first ``batch`` spirals' 100 noisy observed points and their times (shared by every row)."""
    from zoo.datasets.series import spirals_arrays

    # The train split keeps 4/5 of the spirals; ask for enough that it holds `batch` of them.
    arrays = spirals_arrays("train", n_observed=100, n_predicted=0, n_spirals=-(-batch * 5 // 4) + 1, seed=0)
    values = arrays["inputs"]["values"][:batch]
    assert len(values) == batch, len(values)
    return {"values": values, "times": arrays["inputs"]["times"][0]}


def ours(mode, iterations, warmup, threads):
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    import zoo

    data = np.load(DATA)
    values, times = data["values"], data["times"]
    batch = len(values)
    inputs = {"times": tf.constant(np.tile(times, (batch, 1))), "values": tf.constant(values),
              "mask": tf.ones(values.shape, tf.float32), "query_times": tf.constant(np.tile(times, (batch, 1)))}
    targets = tf.constant(values)  # the example reconstructs the observed (noisy) points

    keras.utils.set_random_seed(0)
    xla = mode.endswith("+xla")
    model = zoo.LatentODE(features=2, latent_dim=LATENT, dynamics_units=(HIDDEN, HIDDEN), hidden_units=(HIDDEN,),
                          activation="elu", encoder="rnn", encoder_units=RNN_UNITS, method="dopri5", rtol=RTOL,
                          atol=ATOL, observation_noise=NOISE_STD, learn_noise=False,
                          **({"max_steps": XLA_MAX_STEPS} if xla else {}))
    model.compile(optimizer=keras.optimizers.Adam(LR, epsilon=1e-8), jit_compile=xla)
    # The latent solve's own count: the solver adds each solve's forward NFE to `total`, the
    # trajectory layer adds 1 to `batches` per solve.
    counter = model.trajectory.nfe_forward
    rows = model.iwae_samples * batch  # one solve of the sampled z0 (keras' mse metric reads the first)
    if mode.startswith("keras"):

        def train():
            logs = model.train_on_batch(inputs, targets, return_dict=True)  # resets the metrics first
            assert "nfe_forward" in logs, sorted(logs)
            return logs["loss"]
    else:
        variables = model.trainable_variables

        @tf.function(jit_compile=xla)
        def train_step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model.negative_elbo(inputs, targets, training=True))
            model.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        def train():
            return float(train_step())

    for _ in range(warmup):
        train()
    nfe = solves = 0
    seconds = 0.0
    for _ in range(iterations):
        counter.reset_state()
        start = time.perf_counter()
        loss = train()
        seconds += time.perf_counter() - start
        nfe += int(counter.total.numpy())  # this iteration's solves' forward NFE, summed
        solves += int(counter.batches.numpy())
    if not np.isfinite(float(loss)):
        raise RuntimeError(f"{mode}: the loss is {float(loss)} (under XLA: more than {XLA_MAX_STEPS} steps?)")
    return {"its": iterations / seconds, "nfe": nfe / iterations, "solves": solves / iterations, "rows": rows,
            "loss": float(loss), "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(command, env=None):
    completed = subprocess.run(command, capture_output=True, text=True, timeout=3600, env={**os.environ, **(env or {})})
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
        print(f"  {' '.join(command[1:])} failed: {lines[-1:] if lines else completed.returncode}", file=sys.stderr)
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def cell(result):
    if not result:
        return f"{'not available':>50}"
    shape = f"({result['solves']:.0f}x{result['rows']})"
    return (f"{result['its']:7.2f} it/s {result['nfe']:6.1f} {shape:<8} "
            f"{result['its'] * result['nfe']:7.0f}/s {result['peak']:5.0f}MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=None, help="timed iterations per run (default 20)")
    parser.add_argument("--batch", type=int, default=1000, help="spirals per batch (default 1000, the example's)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed iterations first (default 3)")
    parser.add_argument("--quick", action="store_true", help="5 iterations after 2 warm-ups")
    parser.add_argument("--modes", default=None,
                        help=f"comma-separated subset of {','.join(MODES)} (default {','.join(DEFAULT_MODES)})")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for each library (TF intra/inter-op pools, torch.set_num_threads); "
                             "default: each library's own (all cores)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    iterations = args.iterations or (5 if args.quick else 20)
    warmup = args.warmup if args.warmup is not None else (2 if args.quick else 3)
    if args.worker:
        print(json.dumps(ours(args.worker, iterations, warmup, args.threads)))
        return
    modes = args.modes.split(",") if args.modes else list(DEFAULT_MODES)
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {MODES}")

    DATA.parent.mkdir(exist_ok=True)
    np.savez(DATA, **spirals_batch(args.batch))
    theirs = run([str(TORCH), str(BENCH / "peers/latent_ode_worker_torch.py"), str(DATA), str(iterations),
                  str(warmup), str(args.threads)]) if TORCH.exists() else None
    if theirs:
        theirs.setdefault("rows", args.batch)  # one solve of the B sampled z0
    print(f"Latent ODE on the spirals, batch {args.batch} x 100 points, dopri5 rtol {RTOL:g} atol {ATOL:g}, "
          f"Adam {LR:g}, {os.cpu_count()} CPUs, threads {args.threads or 'default'}; {iterations} iterations after "
          f"{warmup} warm-up. Each cell: "
          "iterations/s, mean forward NFE per iteration (latent solves per iteration x rows per solve), "
          "forward evaluations/s, "
          "peak RSS; ratio = ours / torchdiffeq iterations/s (above 1: we train faster), and of evaluations/s")
    print(f"torchdiffeq (examples/latent_ode.py): {cell(theirs)}")
    header = f"{'ours':<10} | {'ours':>50} | {'ratio it/s':>10} | {'ratio nfe/s':>11}"
    print(header)
    print("-" * len(header))
    for mode in modes:
        command = [sys.executable, __file__, "--worker", mode, "--iterations", str(iterations), "--warmup", str(warmup),
                   "--threads", str(args.threads)]
        mine = run(command, {"PYTHONPATH": str(ROOT)})
        ratio = f"x{mine['its'] / theirs['its']:.2f}" if mine and theirs else ""
        per_nfe = f"x{mine['its'] * mine['nfe'] / (theirs['its'] * theirs['nfe']):.2f}" if mine and theirs else ""
        print(f"{mode:<10} | {cell(mine)} | {ratio:>10} | {per_nfe:>11}", flush=True)


if __name__ == "__main__":
    main()

"""ODE-Net training benchmark: throughput and NFE against the same architecture in torchdiffeq.

The model is Chen et al.'s ODE-Net (`odenet_mnist.py`: the downsampling stem, one ODE block of two
ConcatConv2d with GroupNorm, dopri5 at rtol = atol = 1e-3, the pooled head), 64 filters, trained
with Adam at batch 128 on real images: scikit-learn's digits at 8x8, and the same digits resized to
28x28 (the MNIST input size). Each (library, input, gradient mode) runs in a fresh process: 3
warm-up steps, then examples per second over 10 steps, the mean forward/backward NFE per batch, and
the process's peak RSS. Ours is `zoo.ODENetClassifier` trained by Keras `fit` machinery
(`train_on_batch`, XLA); torchdiffeq's is the paper's model (`odeint` for direct, `odeint_adjoint`).

Run: .venv/bin/python3 bench/odenet.py   (peers: make bench-peers)
"""

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
BATCH, FILTERS, WARMUP, STEPS = 128, 64, 3, 10


def images(size):
    """A batch of real digits at ``size`` x ``size``, [BATCH, size, size, 1] float32, and labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images[:BATCH] / 16.0).astype("float32")
    if size != 8:
        import tensorflow as tf

        x = tf.image.resize(x[..., None], (size, size)).numpy()[..., 0]
    return x[..., None], data.target[:BATCH].astype("int64")


def ours(size, mode):
    import keras

    import zoo

    x, y = images(size)
    keras.utils.set_random_seed(0)
    # The paper's stem at every size: the architecture of the torchdiffeq model it is compared with.
    model = zoo.ODENetClassifier(input_shape=(size, size, 1), filters=FILTERS, gradient=mode,
                                 min_feature_size=zoo.models.odenet.PAPER_MIN_FEATURE_SIZE)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for _ in range(WARMUP):
        model.train_on_batch(x, y)
    model.reset_metrics()
    start = time.perf_counter()
    for _ in range(STEPS):
        logs = model.train_on_batch(x, y, return_dict=True)
    seconds = time.perf_counter() - start
    return {"throughput": BATCH * STEPS / seconds, "nfe_forward": float(logs["nfe_forward"]),
            "nfe_backward": float(logs.get("nfe_backward", float("nan"))),
            "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(command, env=None):
    completed = subprocess.run(command, capture_output=True, text=True, timeout=3600, env={**os.environ, **(env or {})})
    if completed.returncode != 0:
        print(f"  {' '.join(command[1:])} failed: {completed.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(ours(int(sys.argv[2]), sys.argv[3])))
        return
    print(f"ODE-Net, {FILTERS} filters, batch {BATCH}, dopri5 1e-3, {os.cpu_count()} CPUs; examples/s over {STEPS} "
          "steps, mean NFE per batch (forward/backward), peak RSS MB; ratio = ours / torchdiffeq throughput "
          "(above 1: we train faster)")
    header = f"{'input':<6} {'mode':<8} | {'ours':>32} | {'torchdiffeq':>32} | ratio"
    print(header)
    print("-" * len(header))
    for size in (8, 28):
        if TORCH.exists():  # the torch side reads the same images (it has no scikit-learn)
            x, y = images(size)
            np.save(ROOT / ".bench" / f"odenet_{size}.npy", x)
            np.save(ROOT / ".bench" / "odenet_labels.npy", y)
        for mode in ("direct", "adjoint"):
            mine = run([sys.executable, __file__, "--worker", str(size), mode], {"PYTHONPATH": str(ROOT)})
            theirs = run([str(TORCH), str(BENCH / "peers/odenet_worker_torch.py"), str(BENCH), str(size), mode]) \
                if TORCH.exists() else None
            cells = []
            for result in (mine, theirs):
                cells.append(f"{result['throughput']:8.1f}/s {result['nfe_forward']:5.1f}/{result['nfe_backward']:5.1f} "
                             f"{result['peak']:6.0f}MB" if result else f"{'not available':>32}")
            ratio = f"x{mine['throughput'] / theirs['throughput']:.2f}" if mine and theirs else ""
            print(f"{size}x{size:<3} {mode:<8} | " + " | ".join(cells) + f" | {ratio}", flush=True)


if __name__ == "__main__":
    main()

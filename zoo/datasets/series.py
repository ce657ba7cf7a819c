"""Time series for the latent ODE, generated offline, in the model's input contract: a dict of
``times`` (B, T), ``values`` (B, T, D), ``mask`` (B, T, D; 1 = observed) and ``query_times`` (B, Q),
with ``targets`` (B, Q, D), the values to predict at the query times.

``spirals``: the two-dimensional spirals of Chen et al., "Neural Ordinary Differential Equations"
(NeurIPS 2018, Sec. 5.1), generated as torchdiffeq's ``examples/latent_ode.py`` does
(``generate_spiral2d`` with that script's settings): Archimedean spirals, half clockwise
(r = a + 50 b / (stop + 1 - t), centred at x = -5) and half counter-clockwise (r = a + b t,
centred at x = +5), ``n_total`` points on [0, stop]; each series is ``n_sample`` consecutive points
from a random start with Gaussian noise, on the times ``t[:n_sample]`` (the dynamics do not depend
on time, so each window starts at 0).
"""

import numpy as np
import tensorflow as tf

from zoo.datasets.images import SPLITS

SPIRAL_STOP = 6 * np.pi
SPIRAL_A, SPIRAL_B = 0.0, 0.3


def spiral_curves(n_total=1000, stop=SPIRAL_STOP, a=SPIRAL_A, b=SPIRAL_B):
    """The noise-free curves: ``(times (n_total,), clockwise (n_total, 2), counter_clockwise (n_total, 2))``."""
    times = np.linspace(0.0, stop, n_total)
    angle = stop + 1.0 - times
    radius = a + b * 50.0 / angle
    clockwise = np.stack([radius * np.cos(angle) - 5.0, radius * np.sin(angle)], axis=1)
    radius = a + b * times
    counter_clockwise = np.stack([radius * np.cos(times) + 5.0, radius * np.sin(times)], axis=1)
    return times, clockwise, counter_clockwise


def spirals_arrays(split="train", n_observed=100, n_predicted=100, n_spirals=1000, n_total=1000, n_sample=100,
                   noise_std=0.3, eval_fraction=0.2, seed=0):
    """One split of the spirals as NumPy arrays: the inputs dict, ``targets``, and ``true_values``,
    the noise-free curve at the observed times.

    Each series observes the first ``n_observed`` of its ``n_sample`` noisy points; its query times
    are the next ``n_predicted`` times after them, and its targets the noise-free curve there
    (extrapolation, as Chen et al. score it). Windows start at a uniform index from ``n_sample``
    (as torchdiffeq's) to the last one that leaves room for the prediction. The same ``seed``
    gives the same spirals on every machine; ``eval_fraction`` of them (the last) form ``eval``.
    """
    if split not in SPLITS:
        raise ValueError(f"spirals: unknown split {split!r}; choose one of {SPLITS}.")
    if not 0 < n_observed <= n_sample:
        raise ValueError(f"spirals: n_observed must be in [1, n_sample={n_sample}], got {n_observed}.")
    last_start = n_total - max(n_sample, n_observed + n_predicted)
    if n_predicted < 0 or last_start < n_sample:
        raise ValueError(f"spirals: {n_total} points per curve leave no room for windows of {n_sample} points "
                         f"starting after the first {n_sample} and {n_predicted} predicted points after "
                         f"{n_observed} observed ones.")
    if not 0 < eval_fraction < 1:
        raise ValueError(f"spirals: eval_fraction must be in (0, 1), got {eval_fraction!r}.")
    rng = np.random.default_rng(seed)
    starts = rng.integers(n_sample, last_start + 1, size=n_spirals)
    clockwise = rng.random(n_spirals) <= 0.5
    noise = rng.standard_normal((n_spirals, n_sample, 2)) * noise_std
    times, cw, cc = spiral_curves(n_total)
    curves = np.where(clockwise[:, None, None], cw[None], cc[None])
    window = starts[:, None] + np.arange(n_observed + n_predicted)[None]
    clean = np.take_along_axis(curves, window[..., None], axis=1)
    observed = clean[:, :n_observed] + noise[:, :n_observed]
    n_eval = int(round(eval_fraction * n_spirals))
    rows = slice(n_spirals - n_eval, None) if split == "eval" else slice(0, n_spirals - n_eval)
    count = len(range(n_spirals)[rows])
    as_float = lambda array: np.asarray(array, np.float32)  # noqa: E731
    inputs = {"times": as_float(np.tile(times[:n_observed], (count, 1))), "values": as_float(observed[rows]),
              "mask": np.ones((count, n_observed, 2), np.float32),
              "query_times": as_float(np.tile(times[n_observed:n_observed + n_predicted], (count, 1)))}
    return {"inputs": inputs, "targets": as_float(clean[rows, n_observed:]),
            "true_values": as_float(clean[rows, :n_observed]), "clockwise": clockwise[rows]}


def spirals(split="train", batch_size=None, **options):
    """The spirals as a Dataset of (inputs dict, targets); batched when ``batch_size`` is given.
    ``options`` go to ``spirals_arrays``."""
    arrays = spirals_arrays(split, **options)
    dataset = tf.data.Dataset.from_tensor_slices((arrays["inputs"], arrays["targets"]))
    return dataset.batch(batch_size) if batch_size else dataset

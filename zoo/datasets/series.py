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

``periodic``: the toy 1-d periodic functions of Rubanova, Chen and Duvenaud, "Latent ODEs for
Irregularly-Sampled Time Series" (NeurIPS 2019), generated as their code does
(``generate_timeseries.py``'s ``Periodic_1d`` as ``lib/parse_datasets.py`` sets it up for dataset
"periodic", subsampled and split as ``lib/utils.py``'s ``split_and_subsample_batch`` does): sines of
amplitude 1 whose frequency drifts linearly from one uniform draw in [0.4, 0.8] to another, around a
per-series level 1 + N(0, 0.1^2), on irregular times in [0, max_time] shared by every series, with a
random subset of the points observed (interpolation) or of the first half (extrapolation).

``co2``: the real weekly Mauna Loa CO2 record that statsmodels ships (``statsmodels.datasets.co2``,
1958-03-29 to 2001-12-29, 2,284 weeks of which ``CO2_MISSING_WEEKS`` = 59 have no value), cut into
windows whose missing weeks are masked, each predicting the next observed weeks after it.

Every loader masks entries it does not observe (mask 0, value 0), keeps times non-decreasing in each
row, and builds the same data from the same seed.
"""

import functools

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


PERIODIC_FREQUENCIES = (0.4, 0.8)
PERIODIC_LEVEL, PERIODIC_LEVEL_STD = 1.0, 0.1


def periodic_curves(times, init_freq, final_freq, levels):
    """The noise-free periodic functions (n_series, n_times) on the shared ``times`` (sorted, from 0), as
    Rubanova et al.'s ``generate_periodic`` makes them with amplitude 1: the frequency drifts linearly,
    f(t) = init_freq + (final_freq - init_freq) t / max(times), and the phase is their running sum
    phi_i = phi_{i-1} + 2 pi f(t_i) (t_i - t_{i-1}) from phi_0 = 0 (a right-endpoint sum on the grid,
    not the exact integral); the value is sin(phi) + level."""
    times = np.asarray(times, np.float64)
    init_freq, final_freq, levels = (np.asarray(x, np.float64).reshape(-1, 1)
                                     for x in (init_freq, final_freq, levels))
    frequency = init_freq + (final_freq - init_freq) / (times.max() - times.min()) * times[None]
    phase = 2.0 * np.pi * np.cumsum(frequency * np.diff(times, prepend=times[0])[None], axis=1)
    return np.sin(phase) + levels


def periodic_arrays(split="train", n_series=1000, n_times=100, observed_fraction=0.5, max_time=5.0,
                    noise_weight=0.01, extrapolate=False, eval_fraction=0.2, seed=0):
    """One split of Rubanova et al.'s periodic toy data as NumPy arrays: the inputs dict, ``targets``
    (the noisy data at the query times), ``true_values`` (the noise-free curve at the input times),
    ``true_targets`` (the noise-free curve at the query times), ``frequencies`` (n, 2: initial and
    final) and ``levels`` (n,).

    As their code makes dataset "periodic" (``lib/parse_datasets.py``, ``generate_timeseries.py``):
    ``n_times`` times shared by every series, 0 and ``n_times - 1`` sorted uniform draws on
    [0, ``max_time``]; per series an initial and a final frequency, each uniform on [0.4, 0.8],
    amplitude 1 and level 1 + N(0, 0.1^2) (``periodic_curves``); noise ``noise_weight * U[0, 1)`` added
    to every point but the first (their ``add_noise``: uniform and not centred, so of mean
    ``noise_weight / 2``; 0.01 is their default and the README's). Interpolation (their default): each
    series observes ``int(observed_fraction * n_times)`` of the times, chosen at random (their
    ``--sample-tp``; ``-s 50`` of 100 points is 0.5), the rest have mask 0, and the query times are all
    ``n_times`` times with the noisy data as targets, which is what their evaluation scores (MSE over
    every point, observed ones included). Extrapolation (``--extrap``): the inputs are the first
    ``n_times // 2`` times, of which the same fraction is observed, and the queries the rest.

    Differences from their code: the subsample is drawn once from ``seed`` (theirs is redrawn at every
    batch); the time axis keeps every time, masked, where theirs drops the times a batch never
    observes; and ``--extrap`` there also adds one time point and stretches the range by 1/100
    (``n_total_tp = timepoints + extrap``): pass ``n_times=101, max_time=5.05`` to match. The last
    ``eval_fraction`` of the series form ``eval``, as their ``split_train_test``.
    """
    if split not in SPLITS:
        raise ValueError(f"periodic: unknown split {split!r}; choose one of {SPLITS}.")
    if not isinstance(n_times, (int, np.integer)) or n_times < 2:
        raise ValueError(f"periodic: n_times must be an integer >= 2 (the shared time points), got {n_times!r}.")
    if not 0 < observed_fraction <= 1:
        raise ValueError(f"periodic: observed_fraction must be in (0, 1], got {observed_fraction!r}.")
    n_inputs = n_times // 2 if extrapolate else n_times
    n_kept = int(observed_fraction * n_inputs + 1e-9)
    if n_kept < 1:
        raise ValueError(f"periodic: observed_fraction={observed_fraction} of {n_inputs} input times observes no "
                         f"point; raise observed_fraction or n_times.")
    if not max_time > 0:
        raise ValueError(f"periodic: max_time must be > 0, got {max_time!r}.")
    if not noise_weight >= 0:
        raise ValueError(f"periodic: noise_weight must be >= 0, got {noise_weight!r}.")
    if not 0 < eval_fraction < 1:
        raise ValueError(f"periodic: eval_fraction must be in (0, 1), got {eval_fraction!r}.")
    n_eval = int(round(eval_fraction * n_series))
    if not 0 < n_eval < n_series:
        raise ValueError(f"periodic: eval_fraction={eval_fraction} of n_series={n_series} leaves a split empty; "
                         f"use more series or another eval_fraction.")
    rng = np.random.default_rng(seed)
    times = np.sort(np.concatenate([[0.0], rng.uniform(0.0, max_time, n_times - 1)]))
    init_freq, final_freq = (rng.uniform(*PERIODIC_FREQUENCIES, n_series) for _ in range(2))
    levels = PERIODIC_LEVEL + PERIODIC_LEVEL_STD * rng.standard_normal(n_series)
    clean = periodic_curves(times, init_freq, final_freq, levels)
    noisy = clean.copy()
    noisy[:, 1:] += noise_weight * rng.random((n_series, n_times - 1))
    kept = np.argsort(rng.random((n_series, n_inputs)), axis=1)[:, :n_kept]
    observed = np.zeros((n_series, n_inputs), bool)
    np.put_along_axis(observed, kept, True, axis=1)
    rows = slice(n_series - n_eval, None) if split == "eval" else slice(0, n_series - n_eval)
    count = len(range(n_series)[rows])
    query = slice(n_inputs, None) if extrapolate else slice(None)
    as_float = lambda array: np.asarray(array, np.float32)  # noqa: E731
    inputs = {"times": as_float(np.tile(times[:n_inputs], (count, 1))),
              "values": as_float(np.where(observed, noisy[:, :n_inputs], 0.0)[rows, :, None]),
              "mask": as_float(observed[rows, :, None]),
              "query_times": as_float(np.tile(times[query], (count, 1)))}
    return {"inputs": inputs, "targets": as_float(noisy[rows, query, None]),
            "true_values": as_float(clean[rows, :n_inputs, None]), "true_targets": as_float(clean[rows, query, None]),
            "frequencies": np.stack([init_freq, final_freq], axis=1)[rows], "levels": levels[rows]}


def periodic(split="train", batch_size=None, **options):
    """Rubanova et al.'s periodic toy data as a Dataset of (inputs dict, targets); batched when
    ``batch_size`` is given. ``options`` go to ``periodic_arrays``."""
    arrays = periodic_arrays(split, **options)
    dataset = tf.data.Dataset.from_tensor_slices((arrays["inputs"], arrays["targets"]))
    return dataset.batch(batch_size) if batch_size else dataset


CO2_WEEKS, CO2_MISSING_WEEKS = 2284, 59
DAYS_PER_YEAR = 365.25


@functools.lru_cache(maxsize=1)
def _co2_record():
    from statsmodels.datasets import co2 as co2_data  # reads the CSV statsmodels ships; nothing is downloaded

    frame = co2_data.load_pandas().data
    dates, values = frame.index.values.astype("datetime64[D]"), frame["co2"].to_numpy(np.float64)
    dates.flags.writeable = values.flags.writeable = False
    return dates, values


def co2_series():
    """The raw weekly record, ``(dates (2284,) datetime64[D], ppm (2284,) float64)``: the weeks ending
    on Saturdays from 1958-03-29 to 2001-12-29, NaN in the 59 weeks without a value (22 gaps, the
    longest 18 weeks)."""
    dates, values = _co2_record()
    return dates.copy(), values.copy()


def _co2_cut(eval_fraction):
    if not 0 < eval_fraction < 1:
        raise ValueError(f"co2: eval_fraction must be in (0, 1), got {eval_fraction!r}.")
    return int(round((1 - eval_fraction) * CO2_WEEKS))


def co2_statistics(eval_fraction=0.2):
    """``{"mean", "std"}`` of the observed ppm in the training weeks (before ``co2_arrays``' cut), to
    scale values and targets with: ``co2_arrays`` returns raw ppm (about 313 to 374, trending
    upward), which a model wants standardized, e.g. ``(ppm - mean) / std`` where ``mask`` is 1."""
    ppm = _co2_record()[1][:_co2_cut(eval_fraction)]
    return {"mean": float(np.nanmean(ppm)), "std": float(np.nanstd(ppm))}


def co2_arrays(split="train", window=104, n_predicted=52, stride=4, n_held_out=0, eval_fraction=0.2, seed=0):
    """One split of windows of the weekly Mauna Loa CO2 record (``co2_series``) as NumPy arrays: the
    inputs dict, ``targets`` (real ppm), and ``weeks`` (B, window) and ``query_weeks`` (B, Q), the
    indices into ``co2_series()`` of each input and query, and ``start_dates`` (B,).

    A window is ``window`` consecutive weeks, every ``stride`` weeks; times are in years since the
    window's first week (weeks apart by 7 / 365.25), values in raw ppm (D = 1, no scaling: see
    ``co2_statistics``), and the weeks without a value have mask 0. Its queries are the next
    ``n_predicted`` weeks after it that have a value (forecasting; a gap there is skipped, so Q stays
    ``n_predicted`` and every target is a measurement), preceded, when ``n_held_out`` > 0, by that many
    observed weeks inside the window, drawn from ``seed`` and masked in the inputs (interpolation).
    Windows with fewer than ``n_held_out + 1`` observed weeks are left out.

    The split is by time: the first ``1 - eval_fraction`` of the weeks (to 1993-03-27 by default) hold
    every week, input or target, of every ``train`` window, and the rest every week of every ``eval``
    window, so eval is genuinely later data and no week is used by both splits. The record's gaps all
    lie before 1985-08, so with the default cut only ``train`` windows have missing weeks.
    """
    if split not in SPLITS:
        raise ValueError(f"co2: unknown split {split!r}; choose one of {SPLITS}.")
    for name, value, least in (("window", window, 1), ("n_predicted", n_predicted, 1), ("stride", stride, 1),
                               ("n_held_out", n_held_out, 0)):
        if not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"co2: {name} must be an integer >= {least} (weeks), got {value!r}.")
    if n_held_out >= window:
        raise ValueError(f"co2: n_held_out={n_held_out} must be below window={window}, so that some week of each "
                         f"window stays observed.")
    cut = _co2_cut(eval_fraction)
    dates, ppm = _co2_record()
    first, stop = (0, cut) if split == "train" else (cut, CO2_WEEKS)
    observed_weeks = np.flatnonzero(~np.isnan(ppm))
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    starts, queries, n_sparse = [], [], 0
    for start in range(first, stop - window + 1, stride):
        end = start + window
        after = observed_weeks[np.searchsorted(observed_weeks, end):][:n_predicted]
        if len(after) < n_predicted or after[-1] >= stop:
            break
        inside = observed_weeks[(observed_weeks >= start) & (observed_weeks < end)]
        if len(inside) <= n_held_out:
            n_sparse += 1
            continue
        held_out = np.sort(rng.choice(inside, n_held_out, replace=False))
        starts.append(start)
        queries.append(np.concatenate([held_out, after]))
    if not starts:
        reason = (f"{n_sparse} windows had at most n_held_out={n_held_out} observed weeks" if n_sparse else
                  f"too few for a window of {window} weeks followed by {n_predicted} observed weeks")
        raise ValueError(f"co2: the {split} split has {stop - first} weeks ({dates[first]} to {dates[stop - 1]}): "
                         f"{reason}; use a smaller window, n_predicted or n_held_out, or another eval_fraction.")
    starts, query_weeks = np.asarray(starts), np.stack(queries)
    weeks = starts[:, None] + np.arange(window)[None]
    mask = ~np.isnan(ppm[weeks])
    held = query_weeks[:, :n_held_out]
    np.put_along_axis(mask, held - starts[:, None], False, axis=1)
    years = lambda index: (dates[index] - dates[starts][:, None]).astype(np.float64) / DAYS_PER_YEAR  # noqa: E731
    as_float = lambda array: np.asarray(array, np.float32)  # noqa: E731
    values = np.where(mask, np.nan_to_num(ppm[weeks]), 0.0)
    inputs = {"times": as_float(years(weeks)), "values": as_float(values[..., None]), "mask": as_float(mask[..., None]),
              "query_times": as_float(years(query_weeks))}
    return {"inputs": inputs, "targets": as_float(ppm[query_weeks][..., None]), "weeks": weeks,
            "query_weeks": query_weeks, "start_dates": dates[starts]}


def co2(split="train", batch_size=None, **options):
    """Windows of the weekly Mauna Loa CO2 record as a Dataset of (inputs dict, targets); batched when
    ``batch_size`` is given. ``options`` go to ``co2_arrays``."""
    arrays = co2_arrays(split, **options)
    dataset = tf.data.Dataset.from_tensor_slices((arrays["inputs"], arrays["targets"]))
    return dataset.batch(batch_size) if batch_size else dataset

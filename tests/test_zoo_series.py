"""zoo.datasets' time series against their closed forms."""

import numpy as np
import pytest

import zoo
from zoo.datasets.series import CO2_MISSING_WEEKS, CO2_WEEKS, SPIRAL_B, SPIRAL_STOP


def test_spiral_curves_are_archimedean_spirals():
    times, clockwise, counter = zoo.datasets.spiral_curves()
    assert times.shape == (1000,) and times[0] == 0 and times[-1] == pytest.approx(SPIRAL_STOP)
    np.testing.assert_allclose(np.hypot(counter[:, 0] - 5.0, counter[:, 1]), SPIRAL_B * times, atol=1e-12)
    np.testing.assert_allclose(np.hypot(clockwise[:, 0] + 5.0, clockwise[:, 1]),
                               SPIRAL_B * 50.0 / (SPIRAL_STOP + 1.0 - times), rtol=1e-12)
    angles = np.arctan2(counter[1:, 1], counter[1:, 0] - 5.0)
    np.testing.assert_allclose(np.cos(angles), np.cos(times[1:]), atol=1e-9)


@pytest.mark.parametrize("n_observed", [30, 50, 100])
def test_spirals_observe_a_noisy_window_and_predict_the_curve_after_it(n_observed):
    arrays = zoo.datasets.spirals_arrays("train", n_observed=n_observed)
    inputs, targets, true = arrays["inputs"], arrays["targets"], arrays["true_values"]
    assert inputs["times"].shape == (800, n_observed) and inputs["values"].shape == (800, n_observed, 2)
    assert inputs["mask"].shape == (800, n_observed, 2) and inputs["mask"].min() == 1
    assert inputs["query_times"].shape == (800, 100) and targets.shape == (800, 100, 2)
    times, clockwise, counter = zoo.datasets.spiral_curves()
    np.testing.assert_allclose(inputs["times"][0], times[:n_observed], rtol=1e-6)
    np.testing.assert_allclose(inputs["query_times"][0], times[n_observed:n_observed + 100], rtol=1e-6)
    for i in range(0, 800, 37):  # each series: consecutive points of its own curve, from a start >= 100
        curve = clockwise if arrays["clockwise"][i] else counter
        start = int(np.argmin(np.abs(curve - true[i, 0]).sum(axis=1)))
        assert 100 <= start <= 1000 - max(100, n_observed + 100)
        np.testing.assert_allclose(true[i], curve[start:start + n_observed], atol=1e-5)
        np.testing.assert_allclose(targets[i], curve[start + n_observed:start + n_observed + 100], atol=1e-5)
    noise = inputs["values"] - true
    assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(0.3, rel=0.03)
    assert 0.45 < arrays["clockwise"].mean() < 0.55


def test_spirals_splits_are_deterministic_and_disjoint():
    first, again = zoo.datasets.spirals_arrays("eval"), zoo.datasets.spirals_arrays("eval")
    np.testing.assert_array_equal(first["inputs"]["values"], again["inputs"]["values"])
    other_seed = zoo.datasets.spirals_arrays("eval", seed=1)
    assert not np.array_equal(first["inputs"]["values"], other_seed["inputs"]["values"])
    train = zoo.datasets.spirals_arrays("train")
    assert len(first["targets"]) == 200 and len(train["targets"]) == 800
    assert not np.isin(first["inputs"]["values"][:, 0, 0], train["inputs"]["values"][:, 0, 0]).any()
    inputs, targets = next(iter(zoo.datasets.spirals("eval", batch_size=16, n_observed=30)))
    assert inputs["values"].shape == (16, 30, 2) and targets.shape == (16, 100, 2)


@pytest.mark.parametrize("options,message", [
    ({"split": "test"}, "unknown split 'test'"),
    ({"n_observed": 0}, r"n_observed must be in \[1, n_sample=100\], got 0"),
    ({"n_predicted": 900}, "leave no room"),
    ({"eval_fraction": 1.0}, r"eval_fraction must be in \(0, 1\)"),
])
def test_spirals_refuse_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        zoo.datasets.spirals_arrays(**options)


def their_generate_periodic(times, init_freq, final_freq, level):
    """A literal port of Rubanova et al.'s generate_timeseries.generate_periodic (amplitude 1)."""
    phi, previous, values = 0.0, times[0], []
    for t in times:
        freq = init_freq + (final_freq - init_freq) / (times.max() - times.min()) * t
        phi += 2 * np.pi * freq * (t - previous)
        values.append(np.sin(phi) + level)
        previous = t
    return np.array(values)


@pytest.mark.parametrize("extrapolate", [False, True])
def test_periodic_is_their_drifting_sine_with_uniform_noise(extrapolate):
    arrays = zoo.datasets.periodic_arrays("train", extrapolate=extrapolate)
    inputs, targets = arrays["inputs"], arrays["targets"]
    n_in, n_query = (50, 50) if extrapolate else (100, 100)
    assert inputs["times"].shape == (800, n_in) and inputs["values"].shape == (800, n_in, 1)
    assert inputs["mask"].shape == (800, n_in, 1) and inputs["query_times"].shape == (800, n_query)
    assert targets.shape == arrays["true_targets"].shape == (800, n_query, 1)
    times = inputs["times"][0].astype(np.float64)
    np.testing.assert_array_equal(inputs["times"], np.tile(inputs["times"][:1], (800, 1)))  # one shared grid
    grid = np.concatenate([times, inputs["query_times"][0]]) if extrapolate else times
    assert len(grid) == 100 and grid[0] == 0 and np.all(np.diff(grid) >= 0) and 4.5 < grid[-1] <= 5.0
    if extrapolate:
        np.testing.assert_array_equal(inputs["query_times"][0], grid[50:])
    else:
        np.testing.assert_array_equal(inputs["query_times"], inputs["times"])
    freqs, levels = arrays["frequencies"], arrays["levels"]
    assert freqs.shape == (800, 2) and 0.4 <= freqs.min() and freqs.max() <= 0.8 and abs(freqs.mean() - 0.6) < 0.01
    assert abs(levels.mean() - 1.0) < 0.01 and levels.std() == pytest.approx(0.1, rel=0.1)
    clean = np.concatenate([arrays["true_values"], arrays["true_targets"]], axis=1)[..., 0] if extrapolate \
        else arrays["true_values"][..., 0]
    for i in range(0, 800, 53):
        np.testing.assert_allclose(clean[i], their_generate_periodic(grid, *freqs[i], levels[i]), atol=1e-5)
        # and close to the exact chirp sin(2 pi (f0 t + (f1 - f0) t^2 / (2 t_max))) + level they approximate
        exact = np.sin(2 * np.pi * (freqs[i, 0] * grid + (freqs[i, 1] - freqs[i, 0]) * grid ** 2 / (2 * grid[-1])))
        np.testing.assert_allclose(clean[i], exact + levels[i], atol=0.3)
    noise = (targets - arrays["true_targets"])[..., 0]
    if not extrapolate:
        np.testing.assert_array_equal(noise[:, 0], 0.0)  # no noise on the first point, as theirs
        noise = noise[:, 1:]
    assert noise.min() >= -1e-6 and noise.max() < 0.01 + 1e-6
    assert noise.mean() == pytest.approx(0.005, rel=0.05) and noise.std() == pytest.approx(0.01 / np.sqrt(12), rel=0.05)
    mask, values = inputs["mask"][..., 0], inputs["values"][..., 0]
    np.testing.assert_array_equal(mask.sum(axis=1), n_in // 2)
    assert set(np.unique(mask)) == {0.0, 1.0} and np.all(values[mask == 0] == 0)
    assert len({row.tobytes() for row in mask}) > 700  # each series has its own subset
    observed_noise = values - arrays["true_values"][..., 0]
    assert observed_noise[mask == 1].min() >= -1e-6 and observed_noise[mask == 1].max() < 0.01 + 1e-6
    if not extrapolate:
        np.testing.assert_array_equal(values[mask == 1], targets[..., 0][mask == 1])


@pytest.mark.parametrize("fraction,count", [(0.1, 10), (0.2, 20), (0.3, 30), (1.0, 100)])
def test_periodic_observes_the_fraction_of_points(fraction, count):
    mask = zoo.datasets.periodic_arrays("eval", n_series=50, observed_fraction=fraction)["inputs"]["mask"]
    np.testing.assert_array_equal(mask.sum(axis=(1, 2)), count)


def test_periodic_splits_are_deterministic_and_disjoint():
    first, again = zoo.datasets.periodic_arrays("eval"), zoo.datasets.periodic_arrays("eval")
    for key in ("values", "mask", "times"):
        np.testing.assert_array_equal(first["inputs"][key], again["inputs"][key])
    np.testing.assert_array_equal(first["targets"], again["targets"])
    other = zoo.datasets.periodic_arrays("eval", seed=1)
    assert not np.array_equal(first["targets"], other["targets"])
    train = zoo.datasets.periodic_arrays("train")
    assert len(first["targets"]) == 200 and len(train["targets"]) == 800
    np.testing.assert_array_equal(first["inputs"]["times"][0], train["inputs"]["times"][0])
    assert not np.isin(first["levels"], train["levels"]).any()
    inputs, targets = next(iter(zoo.datasets.periodic("eval", batch_size=16, extrapolate=True)))
    assert inputs["values"].shape == (16, 50, 1) and inputs["query_times"].shape == (16, 50)
    assert targets.shape == (16, 50, 1) and inputs["mask"].dtype == "float32"


@pytest.mark.parametrize("options,message", [
    ({"split": "test"}, "unknown split 'test'"),
    ({"n_times": 1}, "n_times must be an integer >= 2"),
    ({"observed_fraction": 0.0}, r"observed_fraction must be in \(0, 1\]"),
    ({"observed_fraction": 0.01, "extrapolate": True}, "observes no point"),
    ({"max_time": 0.0}, "max_time must be > 0"),
    ({"noise_weight": -1.0}, "noise_weight must be >= 0"),
    ({"eval_fraction": 0.0}, r"eval_fraction must be in \(0, 1\)"),
    ({"n_series": 2, "eval_fraction": 0.1}, "leaves a split empty"),
])
def test_periodic_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        zoo.datasets.periodic_arrays(**options)


def statsmodels_co2():
    from statsmodels.datasets import co2

    return co2.load_pandas().data["co2"]


def test_co2_series_is_statsmodels_record_with_the_documented_gaps():
    raw = statsmodels_co2()
    dates, ppm = zoo.datasets.co2_series()
    assert len(ppm) == CO2_WEEKS == len(raw)
    np.testing.assert_array_equal(ppm, raw.to_numpy())
    assert np.all(np.diff(dates).astype(int) == 7) and str(dates[0]) == "1958-03-29"
    assert raw.isna().sum() == np.isnan(ppm).sum() == CO2_MISSING_WEEKS == 59
    assert "59" in zoo.datasets.series.__doc__ and "59" in zoo.datasets.co2_series.__doc__
    ppm[0] = 0.0  # a copy: the loaders' record is unchanged
    assert zoo.datasets.co2_series()[1][0] == raw.iloc[0]


@pytest.mark.parametrize("split", ["train", "eval"])
def test_co2_windows_are_the_record_with_missing_weeks_masked(split):
    raw = statsmodels_co2().to_numpy()
    arrays = zoo.datasets.co2_arrays(split, window=104, n_predicted=52, stride=4)
    inputs, targets, weeks, query_weeks = arrays["inputs"], arrays["targets"], arrays["weeks"], arrays["query_weeks"]
    count = len(targets)
    assert count > 50 and inputs["values"].shape == inputs["mask"].shape == (count, 104, 1)
    assert inputs["query_times"].shape == (count, 52) and targets.shape == (count, 52, 1)
    np.testing.assert_array_equal(np.diff(weeks[:, 0]), 4)
    np.testing.assert_array_equal(weeks, weeks[:, :1] + np.arange(104))
    mask, values = inputs["mask"][..., 0], inputs["values"][..., 0]
    np.testing.assert_array_equal(mask == 0, np.isnan(raw[weeks]))
    # every gap lies before 1985-08 (documented): train windows hold some, eval windows none
    assert (mask == 0).any() if split == "train" else (mask == 1).all()
    np.testing.assert_allclose(values[mask == 1], raw[weeks][mask == 1], rtol=1e-6)
    assert np.all(values[mask == 0] == 0)
    np.testing.assert_allclose(inputs["times"], (weeks - weeks[:, :1]) * 7 / 365.25, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(inputs["query_times"], (query_weeks - weeks[:, :1]) * 7 / 365.25, rtol=1e-6)
    observed = np.flatnonzero(~np.isnan(raw))
    for row in range(count):  # the queries are the next 52 measured weeks after the window
        first = np.searchsorted(observed, weeks[row, -1] + 1)
        np.testing.assert_array_equal(query_weeks[row], observed[first:first + 52])
    assert not np.isnan(targets).any()
    np.testing.assert_allclose(targets[..., 0], raw[query_weeks], rtol=1e-6)
    assert np.all(np.diff(np.concatenate([inputs["times"], inputs["query_times"]], axis=1), axis=1) > 0)


def test_co2_eval_windows_lie_after_every_train_week():
    train, evaluation = zoo.datasets.co2_arrays("train"), zoo.datasets.co2_arrays("eval")
    last_train = max(train["weeks"].max(), train["query_weeks"].max())
    assert last_train < min(evaluation["weeks"].min(), evaluation["query_weeks"].min())
    assert train["start_dates"].max() < evaluation["start_dates"].min()
    assert evaluation["weeks"].min() == int(round(0.8 * CO2_WEEKS))
    assert not np.isin(evaluation["query_weeks"], train["query_weeks"]).any()
    stats, raw = zoo.datasets.co2_statistics(), statsmodels_co2().to_numpy()[:int(round(0.8 * CO2_WEEKS))]
    assert stats["mean"] == pytest.approx(np.nanmean(raw)) and stats["std"] == pytest.approx(np.nanstd(raw))


def test_co2_held_out_weeks_are_measured_weeks_masked_in_the_window():
    raw = statsmodels_co2().to_numpy()
    arrays = zoo.datasets.co2_arrays("eval", n_held_out=5, seed=3)
    weeks, query_weeks, mask = arrays["weeks"], arrays["query_weeks"], arrays["inputs"]["mask"][..., 0]
    held = query_weeks[:, :5]
    assert np.all((held >= weeks[:, :1]) & (held <= weeks[:, -1:])) and not np.isnan(raw[held]).any()
    np.testing.assert_array_equal(np.take_along_axis(mask, held - weeks[:, :1], axis=1), 0)
    np.testing.assert_array_equal(mask.sum(axis=1), (~np.isnan(raw[weeks])).sum(axis=1) - 5)
    np.testing.assert_allclose(arrays["targets"][..., 0], raw[query_weeks], rtol=1e-6)
    assert np.all(np.diff(arrays["inputs"]["query_times"], axis=1) > 0)
    again, other = zoo.datasets.co2_arrays("eval", n_held_out=5, seed=3), zoo.datasets.co2_arrays("eval", n_held_out=5)
    np.testing.assert_array_equal(again["query_weeks"], query_weeks)
    assert not np.array_equal(other["query_weeks"], query_weeks)
    sparse = zoo.datasets.co2_arrays("train", window=3, n_predicted=1, stride=1, n_held_out=2)["weeks"]
    assert np.all(~np.isnan(raw[sparse])) and 0 < len(sparse) < int(round(0.8 * CO2_WEEKS)) - 3 - 5
    assert not np.isin(np.flatnonzero(np.isnan(raw)), sparse[:, 0]).any()  # windows with a gap are left out
    inputs, targets = next(iter(zoo.datasets.co2("train", batch_size=8, n_held_out=5)))
    assert inputs["values"].shape == (8, 104, 1) and inputs["query_times"].shape == (8, 57)
    assert targets.shape == (8, 57, 1)


@pytest.mark.parametrize("options,message", [
    ({"split": "test"}, "unknown split 'test'"),
    ({"window": 0}, r"window must be an integer >= 1 \(weeks\), got 0"),
    ({"n_predicted": 2.5}, "n_predicted must be an integer >= 1"),
    ({"stride": 0}, "stride must be an integer >= 1"),
    ({"n_held_out": 104}, "n_held_out=104 must be below window=104"),
    ({"eval_fraction": 1.0}, r"eval_fraction must be in \(0, 1\)"),
    ({"split": "eval", "window": 400, "n_predicted": 100}, "too few for a window of 400 weeks"),
    ({"eval_fraction": 0.99, "window": 20}, "the train split has 23 weeks"),
])
def test_co2_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        zoo.datasets.co2_arrays(**options)

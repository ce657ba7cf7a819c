"""zoo.datasets' time series against their closed forms."""

import numpy as np
import pytest

import zoo
from zoo.datasets.series import SPIRAL_B, SPIRAL_STOP


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

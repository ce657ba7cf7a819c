"""zoo.CNF (FFJORD): its log-density is a normalized density whose log-Jacobian part matches finite
differences of the flow, Hutchinson's trace is unbiased, the flow inverts, and it trains with fit."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo.models.cnf as cnf


@pytest.fixture(scope="module")
def flow():
    keras.utils.set_random_seed(0)
    return cnf.CNF(2, hidden_units=(16, 16), trace="exact", time_length=1.0, rtol=1e-7, atol=1e-7)


def points(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 2)).astype("float32")


def test_density_integrates_to_one_on_a_grid(flow):
    grid = np.linspace(-6, 6, 121)
    xs, ys = np.meshgrid(grid, grid)
    log_p = flow.log_prob(np.stack([xs.ravel(), ys.ravel()], 1).astype("float32")).numpy()
    assert log_p.shape == (121 * 121,)
    assert np.exp(log_p).sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=0.01)


def test_integrated_trace_is_the_log_determinant_of_the_flow_by_finite_differences(flow):
    x = points(8).astype("float64")
    step = 1e-3
    columns = []
    for axis in range(2):
        shift = np.zeros(2)
        shift[axis] = step
        plus = flow.transform((x + shift).astype("float32")).numpy().astype("float64")
        minus = flow.transform((x - shift).astype("float32")).numpy().astype("float64")
        columns.append((plus - minus) / (2 * step))
    jacobian = np.stack(columns, -1)
    z = flow.transform(x.astype("float32")).numpy()
    base = -0.5 * np.sum(z.astype("float64") ** 2, -1) - np.log(2 * np.pi)
    log_det = flow.log_prob(x.astype("float32")).numpy() - base
    np.testing.assert_allclose(log_det, np.log(np.abs(np.linalg.det(jacobian))), atol=2e-3)


@pytest.mark.parametrize("noise", ["rademacher", "gaussian"])
def test_hutchinson_estimate_is_unbiased_within_its_standard_error(flow, noise):
    x = points(64, seed=1)
    exact = flow.log_prob(x).numpy()
    flow.flow.noise = noise
    try:
        draws = np.stack([flow.log_prob(x, trace="hutchinson").numpy() for _ in range(30)])
    finally:
        flow.flow.noise = "rademacher"
    error = draws.mean(0) - exact
    standard_error = draws.std(0, ddof=1) / np.sqrt(len(draws)) + 1e-6
    assert np.mean(np.abs(error / standard_error)) < 1.5  # about 0.8 for an unbiased estimate
    assert np.all(draws.std(0) > 0)


def test_inverse_undoes_transform_and_sample_has_the_contract_shape(flow):
    x = points(32, seed=2)
    np.testing.assert_allclose(flow.flow.inverse(flow.transform(x)).numpy(), x, atol=1e-4)
    samples = flow.sample(10, seed=3)
    assert samples.shape == (10, 2) and np.all(np.isfinite(samples.numpy()))


def test_fit_lowers_the_nll_with_nfe_in_its_logs_and_keras_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    model = cnf.CNF(2, hidden_units=(16, 16), rtol=1e-4, atol=1e-4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    data = (points(400, seed=4) * np.array([3.0, 0.5], np.float32))
    history = model.fit(tf.data.Dataset.from_tensor_slices(data).batch(100), epochs=8, verbose=0).history
    assert {"loss", "nfe_forward", "nfe_backward"} <= set(history)
    assert history["loss"][-1] < history["loss"][0] - 0.1
    model.save(tmp_path / "cnf.keras")
    restored = keras.saving.load_model(tmp_path / "cnf.keras")
    np.testing.assert_allclose(restored.log_prob(data[:16], trace="exact").numpy(),
                               model.log_prob(data[:16], trace="exact").numpy(), rtol=1e-6)


def test_bad_options_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown trace 'jacobian'"):
        cnf.CNF(2, trace="jacobian")
    with pytest.raises(ValueError, match="unknown noise 'uniform'"):
        cnf.CNF(2, noise="uniform")
    with pytest.raises(ValueError, match="time_length must be positive"):
        cnf.CNF(2, time_length=0.0)

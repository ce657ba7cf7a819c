"""The latent ODE's shipped presets: each scores what its config records (Chen et al.'s spiral
extrapolation, Rubanova et al.'s periodic interpolation) and fine-tunes with plain fit."""

import numpy as np
import pytest

import zoo

SPIRALS = "latent_ode_spirals"
PERIODIC = "latent_ode_periodic"


def test_presets_are_registered_with_their_family():
    assert zoo.models.latent_ode.PRESETS == (SPIRALS, PERIODIC)
    assert zoo.models.family_of_preset(SPIRALS) == "latent_ode"
    model = zoo.models.from_preset(SPIRALS)
    assert type(model) is zoo.LatentODE and model.compiled
    with pytest.raises(ValueError, match="latent_dim would not fit the preset's weights"):
        zoo.LatentODE.from_preset(SPIRALS, latent_dim=8)
    with pytest.raises(ValueError, match="Preset 'latent_ode_spirals' is a LatentODE, not a ODERNNForecaster"):
        zoo.ODERNNForecaster.from_preset(SPIRALS)


def spiral_rmse(model, n_observed, **options):
    arrays = zoo.datasets.spirals_arrays("eval", n_observed=n_observed, n_predicted=100, **options)
    predictions = model.predict(arrays["inputs"], batch_size=200, verbose=0)
    return float(np.sqrt(np.mean((predictions - arrays["targets"]) ** 2)))


@pytest.mark.parametrize("n_observed", [30, 50, 100])
def test_spirals_preset_extrapolates_as_its_config_records(n_observed):
    model = zoo.LatentODE.from_preset(SPIRALS)
    recorded = zoo.presets.get(SPIRALS)["metrics"][f"extrapolation_rmse_{n_observed}_observed"]
    assert spiral_rmse(model, n_observed) == pytest.approx(recorded, rel=0.02)


def test_spirals_preset_fine_tunes_on_noisier_spirals_with_plain_fit():
    model = zoo.LatentODE.from_preset(SPIRALS)
    options = dict(noise_std=0.5, seed=1)
    before = spiral_rmse(model, 50, **options)
    train = zoo.datasets.spirals("train", batch_size=100, n_observed=50, n_predicted=50, **options)
    history = model.fit(train.take(4), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert spiral_rmse(model, 50, **options) < 1.25 * before  # the fine-tuning rate keeps what it knew


def periodic_mse(model, fraction):
    arrays = zoo.datasets.periodic_arrays("eval", observed_fraction=fraction)
    predictions = model.predict(arrays["inputs"], batch_size=200, verbose=0)
    return float(np.mean((predictions - arrays["targets"]) ** 2))


@pytest.mark.parametrize("percent", [10, 50])
def test_periodic_preset_interpolates_as_its_config_records(percent):
    model = zoo.LatentODE.from_preset(PERIODIC)
    recorded = zoo.presets.get(PERIODIC)["metrics"][f"interpolation_mse_{percent}_percent"]
    assert periodic_mse(model, percent / 100) == pytest.approx(recorded, rel=0.02)


def test_periodic_preset_fine_tunes_on_co2_with_plain_fit():
    """Rubanova et al.'s toy dynamics as a start for a real series: two-year windows of Mauna Loa CO2,
    standardized, forecasting the next 52 weeks."""
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.LatentODE.from_preset(PERIODIC)
    statistics = zoo.datasets.co2_statistics()
    arrays = zoo.datasets.co2_arrays("train", stride=26)
    inputs = dict(arrays["inputs"])
    inputs["values"] = (inputs["values"] - statistics["mean"]) / statistics["std"] * inputs["mask"]
    targets = (arrays["targets"] - statistics["mean"]) / statistics["std"]
    import tensorflow as tf

    train = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(16).take(3)
    history = model.fit(train, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and history.history["mse"][-1] < history.history["mse"][0]

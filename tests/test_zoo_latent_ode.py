"""zoo.LatentODE: its latent trajectory against scipy, padding, the ELBO, training and round trips."""

import keras
import numpy as np
import pytest
import scipy.integrate
import tensorflow as tf

import zoo

FEATURES = 2


def series(seed=0, batch=3, length=8, queries=5):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, 2.0, (batch, length)), axis=1).astype("float32")
    values = rng.normal(size=(batch, length, FEATURES)).astype("float32")
    mask = (rng.random((batch, length, FEATURES)) < 0.8).astype("float32")
    mask[:, 0] = 1.0
    query = (times[:, :1] + np.sort(rng.uniform(0.0, 3.0, (batch, queries)), axis=1)).astype("float32")
    query[0, 0] = times[0, 0]  # a query at the first observed time gives z0 itself
    return {"times": times, "values": values, "mask": mask, "query_times": query}


def as_tensors(inputs):
    return {key: tf.constant(value) for key, value in inputs.items()}


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def test_latent_trajectory_equals_scipy_per_row():
    """Rows with their own start and query times, solved in one batch, against scipy on each row."""
    model = zoo.LatentODE(rtol=1e-7, atol=1e-9)
    inputs = series()
    z0 = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    start = inputs["times"][:, 0]  # every row observes its first time
    ours = model.trajectory(tf.constant(z0), *(tf.constant(inputs[key]) for key in ("times", "mask", "query_times")))
    ours = ours.numpy()
    weights = [w.astype("float64") for w in model.trajectory.dynamics.get_weights()]
    assert len(weights) == 6  # torchdiffeq's LatentODEfunc: two ELU layers of 20, then linear

    def field(t, z):
        for kernel, bias in zip(weights[:-2:2], weights[1:-2:2]):
            z = elu(z @ kernel + bias)
        return z @ weights[-2] + weights[-1]

    for row in range(3):
        solution = scipy.integrate.solve_ivp(field,
                                             (start[row], inputs["query_times"][row, -1]), z0[row].astype("float64"),
                                             t_eval=inputs["query_times"][row], rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(ours[row], solution.y.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[0, 0], z0[0], rtol=1e-6)


@pytest.mark.parametrize("encoder", ["ode_rnn", "rnn"])
def test_predictions_have_the_contract_shape_and_ignore_padding(encoder):
    model = zoo.LatentODE(encoder=encoder)
    inputs = series()
    predicted = model(as_tensors(inputs)).numpy()
    assert predicted.shape == (3, 5, FEATURES)
    padded = dict(inputs)
    for key in ("times", "values", "mask"):
        padded[key] = np.concatenate([inputs[key], np.zeros_like(inputs[key][:, :3])], axis=1)
    padded["times"][:, -3:] = inputs["times"][:, -1:]  # padding repeats the last time ...
    padded["values"][:, -3:] = 99.0  # ... and its values are hidden by the mask
    np.testing.assert_allclose(model(as_tensors(padded)).numpy(), predicted, rtol=1e-5, atol=1e-6)
    bands = model.sample_trajectories(inputs, 7, seed=(1, 2)).numpy()
    assert bands.shape == (7, 3, 5, FEATURES) and bands.std(axis=0).min() > 0
    np.testing.assert_array_equal(model.sample_trajectories(inputs, 7, seed=(1, 2)).numpy(), bands)


def normal_log_density(x, mean, std):
    return -0.5 * (((x - mean) / std) ** 2 + 2 * np.log(std) + np.log(2 * np.pi))


def test_negative_elbo_is_the_iwae_bound():
    """Burda et al.'s bound written out in NumPy for the same posterior samples (the same stateless
    seed): log mean_k p(y | z_k) p(z_k) / q(z_k), per target value, the KL part scaled by kl_weight."""
    samples, seed = 5, (3, 4)
    # Tight tolerances: the bound solves the 5 x 3 rows together, the reference each sample's 3, so
    # their adaptive steps differ; at the default rtol the bounds differed by 2e-4 (relative).
    model = zoo.LatentODE(iwae_samples=samples, rtol=1e-7, atol=1e-9)
    inputs = as_tensors(series())
    targets = np.random.default_rng(2).normal(size=(3, 5, FEATURES))
    mean, std = (t.numpy().astype("float64") for t in
                 model.encoder_layer({key: inputs[key] for key in ("times", "values", "mask")}))
    noise = tf.random.stateless_normal((samples, 3, 4), seed).numpy().astype("float64")
    z0 = mean[None] + std[None] * noise
    predictions = np.stack([model.decoder(model.trajectory(tf.constant(z, tf.float32), inputs["times"], inputs["mask"],
                                                           inputs["query_times"])).numpy() for z in z0])
    scale = np.exp(model.decoder.log_noise.numpy().astype("float64"))
    log_likelihood = normal_log_density(targets[None], predictions, scale).sum(axis=(2, 3))
    kl_part = normal_log_density(z0, 0.0, 1.0).sum(-1) - normal_log_density(z0, mean[None], std[None]).sum(-1)
    for kl_weight in (1.0, 0.25):
        model.kl_weight.assign(kl_weight)
        log_weights = log_likelihood + kl_weight * kl_part
        bound = np.log(np.mean(np.exp(log_weights - log_weights.max(0)), axis=0)) + log_weights.max(0)
        ours = model.negative_elbo(inputs, tf.constant(targets, tf.float32), seed=seed).numpy()
        np.testing.assert_allclose(ours, -bound / (5 * FEATURES), rtol=1e-4)


def test_keras_round_trip_keeps_predictions_and_compile(tmp_path):
    model = zoo.LatentODE(latent_dim=3, encoder_units=8, iwae_samples=2)
    model.compile()
    inputs = as_tensors(series())
    expected = model(inputs).numpy()
    model.save(tmp_path / "latent.keras")
    reloaded = keras.saving.load_model(tmp_path / "latent.keras")
    assert type(reloaded) is zoo.LatentODE and reloaded.iwae_samples == 2 and reloaded.compiled
    np.testing.assert_array_equal(reloaded(inputs).numpy(), expected)
    assert reloaded.get_config() == model.get_config()


def test_bad_options_and_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="unknown encoder 'gru'"):
        zoo.LatentODE(encoder="gru")
    with pytest.raises(ValueError, match="iwae_samples must be at least 1, got 0"):
        zoo.LatentODE(iwae_samples=0)
    with pytest.raises(ValueError, match="observation_noise must be positive"):
        zoo.LatentODE(observation_noise=0.0)


def test_a_query_before_the_first_observation_starts_the_latent_state_there():
    """Rubanova et al.'s interpolation scores times before the first observed one: the encoder's
    ODE-RNN state follows its ODE back to that query, and z0 sits there."""
    model = zoo.LatentODE(latent_dim=3, encoder_units=6, rtol=1e-7, atol=1e-9)
    inputs = series()
    inputs["mask"][1, 0] = 0.0  # row 1 first observes a later time ...
    inputs["query_times"][1] = np.sort(np.concatenate([[inputs["times"][1, 0] - 0.5], inputs["query_times"][1, 1:]]))
    ours = model(as_tensors(inputs)).numpy()  # ... and is asked about a time before its first
    encoder = model.encoder_layer
    series_only = {key: tf.constant(inputs[key][1:2]) for key in ("times", "values", "mask")}
    h = encoder.recognition(series_only)
    start, first = inputs["query_times"][1, 0], inputs["times"][1][inputs["mask"][1].any(axis=-1)][0]
    h = encoder.recognition.cell.evolve(h, tf.constant([[start - first]], tf.float32))
    z0 = tf.split(encoder.posterior(encoder.hidden(h)), 2, axis=-1)[0].numpy()[0].astype("float64")
    weights = [w.astype("float64") for w in model.trajectory.dynamics.get_weights()]

    def field(t, z):
        for kernel, bias in zip(weights[:-2:2], weights[1:-2:2]):
            z = elu(z @ kernel + bias)
        return z @ weights[-2] + weights[-1]

    solution = scipy.integrate.solve_ivp(field, (start, inputs["query_times"][1, -1]), z0,
                                         t_eval=inputs["query_times"][1], rtol=1e-11, atol=1e-12)
    expected = model.decoder(tf.constant(solution.y.T[None], tf.float32)).numpy()[0]
    np.testing.assert_allclose(ours[1], expected, rtol=1e-4, atol=1e-5)

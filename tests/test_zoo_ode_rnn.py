"""zoo.layers.ODERNN against a NumPy reimplementation of Rubanova et al.'s update (Euler steps), and
its forecasts against scipy."""

import keras
import numpy as np
import pytest
import scipy.integrate
import tensorflow as tf

import zoo

UNITS, FEATURES = 5, 2


def series(seed=0, batch=3, length=6):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, 2.0, (batch, length)), axis=1).astype("float32")
    values = rng.normal(size=(batch, length, FEATURES)).astype("float32")
    mask = (rng.random((batch, length, FEATURES)) < 0.7).astype("float32")
    mask[0, 0] = 0.0  # a leading time, an inner time and a feature observed alone
    mask[1, 3] = 0.0
    mask[2, 2] = [1.0, 0.0]
    return {"times": times, "values": values, "mask": mask}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_ode_rnn(layer, inputs, euler_steps, backwards=False):
    """Algorithm 1 of Rubanova et al., written out: Euler steps of dh/dt = f(h) across each gap
    between observed times, then Keras' GRU update (reset_after) with [x * m, m]."""
    dense = [weights for weights in layer.cell.dynamics.get_weights()]
    kernel, recurrent, bias = layer.cell.gru.get_weights()

    def field(h):
        out = h
        for i in range(0, len(dense) - 2, 2):
            out = np.tanh(out @ dense[i] + dense[i + 1])
        return out @ dense[-2] + dense[-1]

    def gru(h, x):
        inner = h @ recurrent + bias[1]
        projected = x @ kernel + bias[0]
        z = sigmoid(projected[:, :UNITS] + inner[:, :UNITS])
        r = sigmoid(projected[:, UNITS:2 * UNITS] + inner[:, UNITS:2 * UNITS])
        candidate = np.tanh(projected[:, 2 * UNITS:] + r * inner[:, 2 * UNITS:])
        return z * h + (1 - z) * candidate

    results = []
    for row in range(inputs["times"].shape[0]):
        h, last = np.zeros((1, UNITS)), None
        order = range(inputs["times"].shape[1])
        for i in (reversed(order) if backwards else order):
            m = inputs["mask"][row, i]
            if not m.any():
                continue
            t = float(inputs["times"][row, i])
            gap = 0.0 if last is None else t - last
            for _ in range(euler_steps):
                h = h + gap / euler_steps * field(h)
            h = gru(h, np.concatenate([inputs["values"][row, i] * m, m])[None])
            last = t
        results.append(h[0])
    return np.stack(results)


@pytest.mark.parametrize("euler_steps", [1, 4])
@pytest.mark.parametrize("backwards", [False, True])
def test_ode_rnn_is_algorithm_1_with_euler_steps(euler_steps, backwards):
    layer = zoo.layers.ODERNN(UNITS, method="euler", step_size=1.0 / euler_steps, go_backwards=backwards)
    inputs = series()
    ours = layer({key: tf.constant(value) for key, value in inputs.items()}).numpy()
    np.testing.assert_allclose(ours, numpy_ode_rnn(layer, inputs, euler_steps, backwards), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["euler", "dopri5"])
@pytest.mark.parametrize("backwards", [False, True])
def test_padding_never_changes_the_result(method, backwards):
    layer = zoo.layers.ODERNN(UNITS, method=method, go_backwards=backwards)
    inputs = series(seed=1)
    unpadded = layer({key: tf.constant(value) for key, value in inputs.items()}).numpy()
    for pad_time in ("repeat", "zero"):  # padded times repeat the last one, or hold anything at all
        padded = {key: np.concatenate([value, np.zeros_like(value[:, :3])], axis=1) for key, value in inputs.items()}
        if pad_time == "repeat":
            padded["times"][:, -3:] = inputs["times"][:, -1:]
        padded["values"][:, -3:] = 123.0  # hidden by the mask
        result = layer({key: tf.constant(value) for key, value in padded.items()}).numpy()
        np.testing.assert_allclose(result, unpadded, rtol=1e-5, atol=1e-6)


def test_sequences_follow_the_times_and_the_layer_round_trips(tmp_path):
    inputs = {key: keras.Input(value.shape[1:], name=key) for key, value in series().items()}
    encoder = zoo.layers.ODERNN(UNITS, return_sequences=True, go_backwards=True, name="encoder")
    model = keras.Model(inputs, encoder(inputs))
    data = {key: tf.constant(value) for key, value in series().items()}
    states = model(data).numpy()
    assert states.shape == (3, 6, UNITS)
    last_state = zoo.layers.ODERNN(UNITS, go_backwards=True)
    last_state(data)
    last_state.set_weights(encoder.get_weights())
    np.testing.assert_allclose(states[:, 0], last_state(data).numpy(), rtol=1e-6)  # backwards: t[0] comes last
    model.save(tmp_path / "encoder.keras")
    reloaded = keras.saving.load_model(tmp_path / "encoder.keras")
    np.testing.assert_array_equal(reloaded(data).numpy(), states)


def test_ode_rnn_refuses_unknown_options():
    with pytest.raises(ValueError, match="ODERNN: unknown method 'rk45'"):
        zoo.layers.ODERNN(UNITS, method="rk45")
    with pytest.raises(ValueError, match="ODERNN: unknown gradient 'auto'"):
        zoo.layers.ODERNN(UNITS, gradient="auto")


def test_forecast_follows_the_hidden_ode_from_the_last_observation():
    layer = zoo.layers.ODERNN(UNITS, forecast_solver=dict(rtol=1e-7, atol=1e-8))
    inputs = series(seed=2)
    inputs["mask"][1, -2:] = 0.0  # row 1's last observation comes before its last time
    last = layer({key: tf.constant(value) for key, value in inputs.items()}).numpy()
    observed = inputs["mask"].any(axis=-1)
    last_times = np.array([inputs["times"][row][observed[row]][-1] for row in range(3)])
    offsets = np.array([[0.0, 0.4, 1.5], [0.2, 0.2, 3.0], [1.0, 2.0, 2.5]])
    forecast = layer({**{key: tf.constant(value) for key, value in inputs.items()},
                      "query_times": tf.constant(last_times[:, None] + offsets, tf.float32)}).numpy()
    assert forecast.shape == (3, 3, UNITS)
    weights = [w.astype("float64") for w in layer.cell.dynamics.get_weights()]

    def field(t, h):
        return np.tanh(h @ weights[0] + weights[1]) @ weights[2] + weights[3]

    for row in range(3):
        solution = scipy.integrate.solve_ivp(field, (0.0, offsets[row].max()), last[row].astype("float64"),
                                             dense_output=True, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(forecast[row], solution.sol(offsets[row]).T, rtol=0, atol=2e-5)
    early = {**{key: tf.constant(value) for key, value in inputs.items()},
             "query_times": tf.constant(last_times[:, None] - 0.1, tf.float32)}
    with pytest.raises(tf.errors.InvalidArgumentError, match="before its series' last observed time"):
        layer(early)
    with pytest.raises(ValueError, match="query times need a forward layer"):
        zoo.layers.ODERNN(UNITS, go_backwards=True)(early)
    with pytest.raises(ValueError, match="unknown forecast_solver options \\['tolerance'\\]"):
        zoo.layers.ODERNN(UNITS, forecast_solver={"tolerance": 1e-3})

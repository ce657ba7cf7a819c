"""``LatentODE``: the latent ODE of Rubanova, Chen and Duvenaud, "Latent ODEs for Irregularly-Sampled
Time Series" (NeurIPS 2019), built with the functional API."""

import math

import keras
import tensorflow as tf

from zoo.models.configured import ConfiguredModel
from zoo.models.latent_ode.parts import GaussianDecoder, LatentTrajectory, PosteriorEncoder

# Adam's learning rate for compile()'s default (torchdiffeq's latent ODE example trains at 1e-2;
# the ODE-RNN encoder is steadier lower).
LEARNING_RATE = 3e-3
INPUT_KEYS = ("times", "values", "mask", "query_times")
MSE_METRIC = "mse"


def series_inputs(features):
    """The Keras inputs of the series contract (INPUT_KEYS) for ``features`` values per time."""
    return {"times": keras.Input((None,), name="times"), "values": keras.Input((None, features), name="values"),
            "mask": keras.Input((None, features), name="mask"), "query_times": keras.Input((None,), name="query_times")}


class KLAnnealing(keras.callbacks.Callback):
    """Raises the weight of the KL term in the ELBO linearly from 0 to 1 over ``epochs`` epochs
    (KL annealing: the decoder learns to use z0 before the prior pulls q(z0) to it)."""

    def __init__(self, epochs=10):
        super().__init__()
        self.epochs = max(int(epochs), 1)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.kl_weight.assign(min(1.0, epoch / self.epochs))


def _normal_log_density(x, mean, std):
    return -0.5 * (tf.square((x - mean) / std) + 2.0 * tf.math.log(std) + math.log(2.0 * math.pi))


@keras.saving.register_keras_serializable(package="odezoo")
class LatentODE(ConfiguredModel):
    """The latent ODE: q(z0 | series) from a recognition network run backwards over the observed
    points, a generative ODE dz/dt = f(z) from the first observed time (or the first query time,
    when earlier), and a decoder p(x | z).

    Inputs, a dict: ``times`` (B, T), non-decreasing in each row; ``values`` (B, T, D); ``mask``
    (B, T, D), 1 where a value is observed (padding: 0, at any time); ``query_times`` (B, Q), any
    times (between observations: interpolation; after or before them: extrapolation).
    ``model(inputs)`` returns the predicted mean at the query
    times, (B, Q, D), decoded from the posterior mean of z0; ``sample_trajectories(inputs, n)``
    decodes n posterior samples, (n, B, Q, D).

    ``compile()`` defaults to Adam at LEARNING_RATE and the negative ELBO of the targets at the query
    times (``fit(dataset of (inputs, targets))``), importance-weighted over ``iwae_samples``
    posterior samples (Burda et al.'s IWAE bound; 1 sample: the ELBO), per target value, with the
    KL term weighted by ``kl_weight`` (1; ``KLAnnealing`` raises it from 0).

    Args:
      features: D, the values' last axis.
      latent_dim, dynamics_units (the latent dynamics' hidden layers, ``activation``), hidden_units
        (the decoder's, ReLU): torchdiffeq's spiral example by default (4 latents, two ELU layers of
        20 in f, one ReLU layer of 20 in the decoder).
      encoder: "ode_rnn" (Rubanova et al.) or "rnn" (Chen et al.'s spirals); encoder_units its size.
      method, rtol, atol, gradient, max_steps: the generative ODE's solver (``odeint``'s options).
      observation_noise, learn_noise: the decoder's noise standard deviation, learned from this value.
    """

    SHAPE_KEYS = ("features", "latent_dim", "dynamics_units", "hidden_units", "encoder", "encoder_units")

    def __init__(self, features=2, latent_dim=4, dynamics_units=(20, 20), hidden_units=(20,), activation="elu",
                 encoder="ode_rnn",
                 encoder_units=25, method="dopri5", rtol=1e-3, atol=1e-4, gradient="direct", max_steps=10_000,
                 observation_noise=0.3, learn_noise=True, iwae_samples=1, **kwargs):
        if int(iwae_samples) < 1:
            raise ValueError(f"LatentODE: iwae_samples must be at least 1, got {iwae_samples!r}.")
        inputs = series_inputs(features)
        encoder_layer = PosteriorEncoder(latent_dim, encoder_units, encoder=encoder, name="encoder")
        trajectory = LatentTrajectory(latent_dim, dynamics_units, activation, method=method, rtol=rtol, atol=atol,
                                      gradient=gradient, max_steps=max_steps, name="trajectory")
        decoder = GaussianDecoder(features, hidden_units, observation_noise, learn_noise, name="decoder")
        mean, _ = encoder_layer(inputs)
        outputs = decoder(trajectory(mean, inputs["times"], inputs["mask"], inputs["query_times"]))
        super().__init__(inputs, outputs, **kwargs)
        self.encoder_layer, self.trajectory, self.decoder = encoder_layer, trajectory, decoder
        self.iwae_samples = int(iwae_samples)
        self.kl_weight = keras.Variable(1.0, trainable=False, name="kl_weight")
        self.architecture = dict(features=features, latent_dim=latent_dim, dynamics_units=list(dynamics_units),
                                 hidden_units=list(hidden_units),
                                 activation=activation, encoder=encoder, encoder_units=encoder_units, method=method,
                                 rtol=rtol, atol=atol, gradient=gradient, max_steps=max_steps,
                                 observation_noise=observation_noise, learn_noise=learn_noise,
                                 iwae_samples=self.iwae_samples)

    def _decode_samples(self, inputs, n, seed=None, training=False, with_mean=False):
        """n posterior samples of z0 decoded at the query times, with the posterior mean's trajectory
        first when ``with_mean`` (all in one solve): (predictions (n or n + 1, B, Q, D), z0 (n, B, L),
        posterior mean and std (B, L))."""
        mean, std = self.encoder_layer(inputs, training=training)
        shape = tf.concat([[n], tf.shape(mean)], 0)
        noise = (tf.random.normal(shape, dtype=mean.dtype) if seed is None
                 else tf.random.stateless_normal(shape, seed, dtype=mean.dtype))
        z0 = mean[None] + std[None] * noise
        starts, count = (tf.concat([mean[None], z0], axis=0), n + 1) if with_mean else (z0, n)
        batch = tf.shape(mean)[0]
        flat = self.trajectory(tf.reshape(starts, [-1, tf.shape(mean)[1]]), tf.tile(inputs["times"], [count, 1]),
                               tf.tile(inputs["mask"], [count, 1, 1]), tf.tile(inputs["query_times"], [count, 1]))
        predictions = self.decoder(flat, training=training)
        shape = tf.concat([[count, batch], tf.shape(predictions)[1:]], 0)
        return tf.reshape(predictions, shape), z0, mean, std

    def sample_trajectories(self, inputs, n, seed=None):
        """n posterior trajectories at the query times, (n, B, Q, D): the decoder's means for n
        samples of q(z0 | series) (``seed``: a stateless seed pair, for repeatable bands)."""
        inputs = {key: tf.convert_to_tensor(inputs[key], tf.float32) for key in INPUT_KEYS}
        return self._decode_samples(inputs, int(n), seed)[0]

    def _negative_bound(self, predictions, z0, mean, std, targets):
        targets = tf.cast(targets, predictions.dtype)
        log_likelihood = tf.reduce_sum(_normal_log_density(targets[None], predictions, self.decoder.noise()),
                                       axis=[2, 3])
        log_prior = tf.reduce_sum(_normal_log_density(z0, 0.0, 1.0), axis=-1)
        log_posterior = tf.reduce_sum(_normal_log_density(z0, mean[None], std[None]), axis=-1)
        log_weights = log_likelihood + self.kl_weight * (log_prior - log_posterior)
        bound = tf.reduce_logsumexp(log_weights, axis=0) - math.log(self.iwae_samples)
        values = tf.cast(tf.reduce_prod(tf.shape(targets)[1:]), bound.dtype)
        return -bound / values

    def negative_elbo(self, inputs, targets, training=False, seed=None):
        """Minus the IWAE bound of log p(targets | series) over iwae_samples samples, per target value,
        the KL part weighted by kl_weight; one value per series, (B,). ``seed``: a stateless seed pair."""
        return self._negative_bound(*self._decode_samples(inputs, self.iwae_samples, seed, training=training),
                                    targets)

    def _prediction_and_loss(self, x, y, training):
        """A prediction for the metrics and the mean negative ELBO plus the layers' losses, from one
        solve: in training the first posterior sample's prediction (the metrics then cost nothing),
        in evaluation the posterior mean's (solved beside the samples)."""
        predictions, z0, mean, std = self._decode_samples(x, self.iwae_samples, training=training,
                                                          with_mean=not training)
        samples = predictions if training else predictions[1:]
        loss = tf.reduce_mean(self._negative_bound(samples, z0, mean, std, y))
        return predictions[0], loss + tf.add_n(self.losses) if self.losses else loss

    # With the ELBO, fit and evaluate take the metrics' prediction from the loss's solve; Keras' own
    # steps would solve once more for y_pred.
    def train_step(self, data):
        if not self._elbo_loss:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred, loss = self._prediction_and_loss(x, y, training=True)
            scaled = self.optimizer.scale_loss(loss)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(y)[0])
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, self.trainable_weights), self.trainable_weights))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        if not self._elbo_loss:
            return super().test_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred, loss = self._prediction_and_loss(x, y, training=False)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(y)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", jit_compile=False, **kwargs):
        """``keras.Model.compile`` with defaults: ``"auto"`` means Adam at LEARNING_RATE, the negative
        ELBO (``negative_elbo``) and the mean squared error of the predicted mean (``mse``). XLA is
        off: the union of the rows' query times has a size known only when the batch arrives."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(LEARNING_RATE)
        self._elbo_loss = loss == "auto"
        loss = None if self._elbo_loss else loss
        if metrics == "auto":
            metrics = [keras.metrics.MeanSquaredError(name=MSE_METRIC)]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        jit_compile=jit_compile, **kwargs)
        # Built now, the optimizer's state goes into a model.keras saved before any training and comes
        # back from it; unbuilt, loading warns of a variable-count mismatch and drops it.
        self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        # Keras does not recompile a loaded model whose class overrides compile().
        self.compile(**keras.saving.deserialize_keras_object(config))

"""``zoo.CNF``: FFJORD's continuous normalizing flow as a functional Keras model whose output is
log p(x); ``compile()`` defaults to the negative log-likelihood so that ``fit(dataset_of_x)`` trains it."""

import keras
import tensorflow as tf

from zoo.models.configured import ConfiguredModel
from zoo.models.cnf.flow import ContinuousFlow

LEARNING_RATE = 1e-3  # FFJORD's toy experiments (train_toy.py)


@keras.saving.register_keras_serializable(package="odezoo")
class CNF(ConfiguredModel):
    """Grathwohl et al.'s FFJORD: data x flows to a standard normal z by dz/dt = f(t, z), f built of
    concat-squash layers, and log p(x) = log N(z; 0, I) + integral of tr(df/dz) dt.

    ``model(x)`` and ``model.log_prob(x)`` return log p(x) in nats, shape (B,); ``sample(n, seed)``
    solves the flow backwards from the standard normal; ``transform(x)`` returns z. ``trace``:
    "hutchinson" (FFJORD's unbiased estimate, one probe per solve, "rademacher" or "gaussian"
    ``noise``) or "exact" (the batch Jacobian's trace; fine in a few dimensions). ``kinetic_energy``
    and ``jacobian_frobenius`` weigh RNODE's regularizers (Finlay et al. 2020), added as losses in
    training. Solver options go to ``zoo.solvers.odeint``.
    """

    SHAPE_KEYS = ("dim", "hidden_units", "num_blocks")

    def __init__(self, dim, hidden_units=(64, 64, 64), activation="tanh", num_blocks=1, time_length=0.5,
                 trainable_time=True, trace="hutchinson", noise="rademacher", method="dopri5", rtol=1e-5, atol=1e-5,
                 gradient="adjoint", step_size=None, max_steps=10_000, kinetic_energy=0.0, jacobian_frobenius=0.0,
                 **kwargs):
        architecture = dict(dim=int(dim), hidden_units=[int(u) for u in hidden_units], activation=activation,
                            num_blocks=int(num_blocks), time_length=float(time_length),
                            trainable_time=bool(trainable_time), trace=trace, noise=noise, method=method, rtol=rtol,
                            atol=atol, gradient=gradient, step_size=step_size, max_steps=max_steps,
                            kinetic_energy=float(kinetic_energy), jacobian_frobenius=float(jacobian_frobenius))
        flow = ContinuousFlow(**architecture, name="flow")
        x = keras.Input((architecture["dim"],), name="x")
        super().__init__(inputs=x, outputs=flow(x), **kwargs)
        self.architecture, self.flow = architecture, flow

    def log_prob(self, x, trace=None):
        """log p(x) in nats, shape (B,); ``trace`` ("exact" or "hutchinson") overrides the model's."""
        return self.flow(tf.convert_to_tensor(x, self.compute_dtype), trace=trace)

    def transform(self, x):
        return self.flow.transform(tf.convert_to_tensor(x, self.compute_dtype))

    def sample(self, n, seed=None):
        """``n`` samples, shape (n, dim): standard normal latents solved backwards through the flow."""
        z = keras.random.normal((int(n), self.architecture["dim"]), dtype=self.compute_dtype, seed=seed)
        return self.flow.inverse(z)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self._nll_loss:
            nll = -tf.reduce_mean(y_pred) if sample_weight is None else -tf.reduce_sum(
                y_pred * sample_weight) / tf.reduce_sum(sample_weight)
            losses = [nll, *self.losses]
            return tf.add_n([tf.cast(loss, nll.dtype) for loss in losses])
        return super().compute_loss(x, y, y_pred, sample_weight, training)

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """``keras.Model.compile`` with defaults: ``"auto"`` means Adam at LEARNING_RATE and the mean
        negative log-likelihood in nats (plus the regularizers, if weighted)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(LEARNING_RATE)
        self._nll_loss = loss == "auto"
        super().compile(optimizer=optimizer, loss=None if self._nll_loss else loss, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        # Keras does not recompile a loaded model whose class overrides compile().
        self.compile(**keras.saving.deserialize_keras_object(config))

"""Time-dependent layers, so that a vector field built of them depends on t: Chen et al.'s, the input
with t appended as a channel or a feature, and FFJORD's concat-squash layer, t gating and shifting
each unit."""

import keras
import tensorflow as tf


def _time_channel(x, t):
    """A constant channel holding t, the shape of x's last axis of size 1."""
    ones = tf.ones_like(x[..., :1])
    return ones * tf.cast(t, x.dtype)


@keras.saving.register_keras_serializable(package="odezoo")
class ConcatConv2D(keras.layers.Layer):
    """Chen et al.'s ConcatConv2d: a convolution of the input with t appended as a channel."""

    def __init__(self, filters, kernel_size=3, strides=1, padding="same", use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.padding, self.use_bias = padding, use_bias
        self.conv = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias)

    def build(self, input_shape):
        self.conv.build(tuple(input_shape[:-1]) + (input_shape[-1] + 1,))

    def call(self, x, t=0.0):
        return self.conv(tf.concat([x, _time_channel(x, t)], axis=-1))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(tuple(input_shape[:-1]) + (input_shape[-1] + 1,))

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                    padding=self.padding, use_bias=self.use_bias)


@keras.saving.register_keras_serializable(package="odezoo")
class ConcatDense(keras.layers.Layer):
    """A dense layer of the input with t appended as a feature."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, activation
        self.dense = keras.layers.Dense(units, activation=activation)

    def build(self, input_shape):
        self.dense.build(tuple(input_shape[:-1]) + (input_shape[-1] + 1,))

    def call(self, x, t=0.0):
        return self.dense(tf.concat([x, _time_channel(x, t)], axis=-1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return dict(super().get_config(), units=self.units, activation=self.activation)


@keras.saving.register_keras_serializable(package="odezoo")
class ConcatSquashDense(keras.layers.Layer):
    """FFJORD's ConcatSquashLinear (Grathwohl et al. 2019): ``dense(x) * sigmoid(gate(t)) + shift(t)``,
    time entering as a learned per-unit gate and shift rather than as one extra input feature."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, activation
        self.dense = keras.layers.Dense(units)
        self.gate = keras.layers.Dense(units)
        self.shift = keras.layers.Dense(units, use_bias=False)
        self.activation_fn = keras.activations.get(activation)

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.gate.build((1, 1))
        self.shift.build((1, 1))

    def call(self, x, t=0.0):
        t = tf.reshape(tf.cast(t, x.dtype), (1, 1))
        return self.activation_fn(self.dense(x) * tf.sigmoid(self.gate(t)) + self.shift(t))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return dict(super().get_config(), units=self.units, activation=self.activation)

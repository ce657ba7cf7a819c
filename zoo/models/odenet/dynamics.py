"""The ODE-Net's vector field."""

import keras
import tensorflow as tf

from zoo.layers.concat import ConcatConv2D


@keras.saving.register_keras_serializable(package="odezoo")
class ConvODEDynamics(keras.layers.Layer):
    """The ODE-Net's vector field (Chen et al.'s ODEfunc): GroupNorm, ReLU, ConcatConv2D, GroupNorm,
    ReLU, ConcatConv2D, GroupNorm."""

    def __init__(self, filters, groups=32, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.groups = filters, groups
        groups = min(groups, filters)
        self.norm1 = keras.layers.GroupNormalization(groups)
        self.conv1 = ConcatConv2D(filters, 3)
        self.norm2 = keras.layers.GroupNormalization(groups)
        self.conv2 = ConcatConv2D(filters, 3)
        self.norm3 = keras.layers.GroupNormalization(groups)

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.norm1.build(shape)
        self.conv1.build(shape)
        inner = shape[:-1] + (self.filters,)
        self.norm2.build(inner)
        self.conv2.build(inner)
        self.norm3.build(inner)

    def call(self, x, t=0.0):
        x = self.conv1(tf.nn.relu(self.norm1(x)), t=t)
        x = self.conv2(tf.nn.relu(self.norm2(x)), t=t)
        return self.norm3(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, groups=self.groups)

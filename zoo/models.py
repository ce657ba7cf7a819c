"""The zoo's ready-made architectures, built with the functional API (the keras-hub pattern: a
``keras.Model`` subclass constructed from its inputs and outputs, so ``summary()`` and
``plot_model`` show the graph, with ``get_config``/``from_config`` and ``from_preset``)."""

import keras

from zoo import presets
from zoo.layers import ConvODEDynamics, ODEBlock

HEAD = "classifier"


@keras.saving.register_keras_serializable(package="odezoo")
class ODENetClassifier(keras.Model):
    """The MNIST ODE-Net of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS 2018),
    Sec. 7.1 and their ``odenet_mnist.py``: a convolutional downsampling stem (3x3 convolution, then
    two 4x4 stride-2 convolutions with group norm and ReLU), one ODE block whose dynamics are two
    time-concatenated 3x3 convolutions with group norm, integrated over [0, 1] by dopri5 at
    rtol = atol = 1e-3, and a head of group norm, ReLU, global average pooling and a dense layer.

    Args:
      input_shape: (height, width, channels) of the images, in [0, 1].
      num_classes: the classes of the head.
      filters: channels of the stem and the ODE block (64 in the paper).
      groups: group-norm groups (min(32, filters) in the paper).
      method, rtol, atol, gradient, max_steps: the ODE block's solver options.
    """

    def __init__(self, input_shape=(28, 28, 1), num_classes=10, filters=64, groups=32, method="dopri5", rtol=1e-3,
                 atol=1e-3, gradient="direct", max_steps=1000, **kwargs):
        groups_used = min(groups, filters)
        inputs = keras.Input(tuple(input_shape), name="images")
        x = keras.layers.Conv2D(filters, 3, name="stem_conv1")(inputs)
        x = keras.layers.GroupNormalization(groups_used, name="stem_norm1")(x)
        x = keras.layers.ReLU(name="stem_relu1")(x)
        # PyTorch's padding=1 on both sides (Keras' "same" pads asymmetrically): 28 -> 26 -> 13 -> 6.
        x = keras.layers.ZeroPadding2D(1, name="stem_pad2")(x)
        x = keras.layers.Conv2D(filters, 4, strides=2, name="stem_conv2")(x)
        x = keras.layers.GroupNormalization(groups_used, name="stem_norm2")(x)
        x = keras.layers.ReLU(name="stem_relu2")(x)
        x = keras.layers.ZeroPadding2D(1, name="stem_pad3")(x)
        x = keras.layers.Conv2D(filters, 4, strides=2, name="stem_conv3")(x)
        x = ODEBlock(ConvODEDynamics(filters, groups, name="ode_dynamics"), method=method, rtol=rtol, atol=atol,
                     gradient=gradient, max_steps=max_steps, name="ode_block")(x)
        x = keras.layers.GroupNormalization(groups_used, name="head_norm")(x)
        x = keras.layers.ReLU(name="head_relu")(x)
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
        outputs = keras.layers.Dense(num_classes, name=HEAD)(x)
        super().__init__(inputs, outputs, **kwargs)
        self.architecture = dict(input_shape=tuple(input_shape), num_classes=num_classes, filters=filters,
                                 groups=groups, method=method, rtol=rtol, atol=atol, gradient=gradient,
                                 max_steps=max_steps)

    def get_config(self):
        return dict(self.architecture, name=self.name, trainable=self.trainable)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_preset(cls, name, num_classes=None, **overrides):
        """The preset's architecture with its shipped weights. ``num_classes`` different from the
        preset's keeps the body and re-initializes the classifier for fine-tuning; ``overrides``
        change solver options (method, rtol, atol, gradient, max_steps)."""
        preset = presets.get(name)
        if preset["class"] != cls.__name__:
            raise ValueError(f"Preset {name!r} is a {preset['class']}, not a {cls.__name__}.")
        architecture = dict(preset["config"])
        shape_keys = {"input_shape", "filters", "groups"} & set(overrides)
        if shape_keys:
            raise ValueError(f"from_preset: {', '.join(sorted(shape_keys))} would not fit the preset's weights; "
                             "build the model directly to change them.")
        architecture.update(overrides)
        trained = cls(**architecture)
        trained.load_weights(preset["weights"])
        if num_classes is None or num_classes == architecture["num_classes"]:
            return trained
        model = cls(**dict(architecture, num_classes=num_classes))
        for layer in model.layers:
            if layer.name != HEAD and layer.weights:
                layer.set_weights(trained.get_layer(layer.name).get_weights())
        return model

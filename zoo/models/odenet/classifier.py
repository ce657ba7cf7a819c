"""``ODENetClassifier``, built with the functional API (the keras-hub pattern: a ``keras.Model``
subclass constructed from its inputs and outputs, so ``summary()`` and ``plot_model`` show the graph,
with ``get_config``/``from_config`` and ``from_preset``)."""

import keras

from zoo import presets
from zoo.layers import ODEBlock
from zoo.models.odenet.dynamics import ConvODEDynamics

HEAD = "classifier"
# The default min_feature_size: group norm in the ODE block then averages at least 9 values per group.
# The paper's stem takes 8x8 digits to 1x1, where its 32 groups of 64 channels normalize 2 values
# each and keep only their signs.
MIN_FEATURE_SIZE = 3
# The min_feature_size of the paper's stem, which halves down to 1x1; configs saved before the option
# existed describe that stem.
PAPER_MIN_FEATURE_SIZE = 1
# Adam's own default; compile() uses it for a model trained from scratch, presets their own recipe.
FROM_SCRATCH_LEARNING_RATE = 1e-3
# Constructor arguments that shape the weights: a preset's cannot be overridden.
SHAPE_KEYS = ("input_shape", "filters", "groups", "min_feature_size")


def _stem_downsampling(size, min_feature_size):
    """Kernel and stride, along an axis of ``size`` pixels, of one of the stem's padded convolutions:
    the paper's 4x4 at stride 2 (size -> size // 2) while the map stays at least ``min_feature_size``,
    else a 3x3 at stride 1 that keeps the size."""
    return (4, 2) if size // 2 >= min_feature_size else (3, 1)


def _stem_convolution(x, filters, stage, min_feature_size):
    kernels, strides = zip(*(_stem_downsampling(size, min_feature_size) for size in x.shape[1:3]))
    # PyTorch's padding=1 on both sides (Keras' "same" pads asymmetrically): 28 -> 26 -> 13 -> 6.
    x = keras.layers.ZeroPadding2D(1, name=f"stem_pad{stage}")(x)
    return keras.layers.Conv2D(filters, kernels, strides=strides, name=f"stem_conv{stage}")(x)


@keras.saving.register_keras_serializable(package="odezoo")
class ODENetClassifier(keras.Model):
    """The MNIST ODE-Net of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS 2018),
    Sec. 7.1 and their ``odenet_mnist.py``: a convolutional downsampling stem (3x3 convolution, then
    two 4x4 stride-2 convolutions with group norm and ReLU), one ODE block whose dynamics are two
    time-concatenated 3x3 convolutions with group norm, integrated over [0, 1] by dopri5 at
    rtol = atol = 1e-3, and a head of group norm, ReLU, global average pooling and a dense layer.

    The model returns logits (``keras.activations.softmax`` of them gives the class probabilities);
    ``compile()`` with no arguments sets the matching loss, ``SparseCategoricalCrossentropy(from_logits=True)``.

    For inputs smaller than MNIST's the stem stops downsampling at a 3x3 feature map (a
    stride-2 convolution that would go under it becomes a 3x3 stride-1 one): 28x28 images reach the
    ODE block at the paper's 6x6, 8x8 digits at 3x3 instead of the paper's 1x1, where group norm
    erases the features. Inputs under 5x5 pixels are refused.

    Args:
      input_shape: (height, width, channels) of the images, in [0, 1].
      num_classes: the classes of the head.
      filters: channels of the stem and the ODE block (64 in the paper).
      groups: group-norm groups (min(32, filters) in the paper); min(groups, filters) must divide filters.
      method, rtol, atol, gradient, max_steps: the ODE block's solver options.
      min_feature_size: the smallest feature map the stem downsamples to (3); inputs need 2 pixels
        more. PAPER_MIN_FEATURE_SIZE (1) builds the paper's stem whatever the input size.
    """

    def __init__(self, input_shape=(28, 28, 1), num_classes=10, filters=64, groups=32, method="dopri5", rtol=1e-3,
                 atol=1e-3, gradient="direct", max_steps=1000, min_feature_size=MIN_FEATURE_SIZE, **kwargs):
        if min_feature_size < 1:
            raise ValueError(f"ODENetClassifier: min_feature_size must be at least 1, got {min_feature_size!r}.")
        height, width, _ = input_shape
        smallest = min_feature_size + 2  # the stem's first convolution is an unpadded 3x3
        if height is None or width is None or min(height, width) < smallest:
            raise ValueError(f"ODENetClassifier: input_shape {tuple(input_shape)} needs a known height and width of at "
                             f"least {smallest} pixels, so that the ODE block gets a feature map of at least "
                             f"{min_feature_size}x{min_feature_size}.")
        groups_used = min(groups, filters)
        if filters % groups_used:
            raise ValueError(f"ODENetClassifier: group norm cannot split the {filters} filters into {groups_used} "
                             "equal groups; choose groups that divide filters.")
        inputs = keras.Input(tuple(input_shape), name="images")
        x = keras.layers.Conv2D(filters, 3, name="stem_conv1")(inputs)
        x = keras.layers.GroupNormalization(groups_used, name="stem_norm1")(x)
        x = keras.layers.ReLU(name="stem_relu1")(x)
        x = _stem_convolution(x, filters, 2, min_feature_size)
        x = keras.layers.GroupNormalization(groups_used, name="stem_norm2")(x)
        x = keras.layers.ReLU(name="stem_relu2")(x)
        x = _stem_convolution(x, filters, 3, min_feature_size)
        x = ODEBlock(ConvODEDynamics(filters, groups, name="ode_dynamics"), method=method, rtol=rtol, atol=atol,
                     gradient=gradient, max_steps=max_steps, name="ode_block")(x)
        x = keras.layers.GroupNormalization(groups_used, name="head_norm")(x)
        x = keras.layers.ReLU(name="head_relu")(x)
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
        outputs = keras.layers.Dense(num_classes, name=HEAD)(x)
        super().__init__(inputs, outputs, **kwargs)
        self.architecture = dict(input_shape=tuple(input_shape), num_classes=num_classes, filters=filters,
                                 groups=groups, method=method, rtol=rtol, atol=atol, gradient=gradient,
                                 max_steps=max_steps, min_feature_size=min_feature_size)

    def get_config(self):
        return dict(self.architecture, name=self.name, trainable=self.trainable)

    @classmethod
    def from_config(cls, config):
        return cls(**{"min_feature_size": PAPER_MIN_FEATURE_SIZE, **config})

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """``keras.Model.compile`` with defaults for integer labels, so that ``compile()`` alone works:
        ``"auto"`` means Adam at FROM_SCRATCH_LEARNING_RATE (1e-3), ``SparseCategoricalCrossentropy(from_logits=True)``
        (the model returns logits) and accuracy (logged as ``accuracy``). Other values, and every
        other argument, go to ``keras.Model.compile`` as given."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(FROM_SCRATCH_LEARNING_RATE)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras does not recompile a loaded model whose class overrides compile(); this compile takes
        # the saved arguments as they are, so model.keras files come back compiled as they were saved.
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    @classmethod
    def from_preset(cls, name, num_classes=None, **overrides):
        """The preset's architecture with its shipped weights, compiled for fine-tuning with
        ``compile()``'s loss and metrics. The optimizer is the preset's recipe (``fine_tuning`` in
        ``zoo.presets.get(name)``: Adam at a learning rate low enough that an epoch on the preset's
        own data keeps its accuracy), except with a new head: ``num_classes`` different from the
        preset's keeps the body, re-initializes the classifier and compiles with ``compile()``'s
        from-scratch Adam, since a random head does not learn at the fine-tuning rate. Like the
        class, the model returns logits. ``overrides`` change solver options (method, rtol, atol,
        gradient, max_steps). Call ``compile`` again to train otherwise."""
        trained = presets.load(cls, name, SHAPE_KEYS, **overrides)
        if num_classes is None or num_classes == trained.architecture["num_classes"]:
            return trained
        model = cls(**dict(trained.architecture, num_classes=num_classes))
        for layer in model.layers:
            if layer.name != HEAD and layer.weights:
                layer.set_weights(trained.get_layer(layer.name).get_weights())
        model.compile()
        # Built now, the optimizer's state goes into a model.keras saved before any training and
        # comes back from it; unbuilt, loading warns of a variable-count mismatch and drops it.
        model.optimizer.build(model.trainable_variables)
        return model

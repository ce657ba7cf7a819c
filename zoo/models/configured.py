"""``ConfiguredModel``: what the zoo's models built from their constructor arguments share: a config
of those arguments (``architecture``) and ``from_preset`` (every argument but ``SHAPE_KEYS``, which
the weights fix, may be overridden)."""

import keras

from zoo import presets


class ConfiguredModel(keras.Model):
    # Constructor arguments that shape the weights: a preset's cannot be overridden.
    SHAPE_KEYS = ()

    def get_config(self):
        return dict(self.architecture, name=self.name, trainable=self.trainable)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_preset(cls, name, **overrides):
        """The preset's model with its shipped weights, compiled with its fine-tuning recipe (the
        optimizer in ``zoo.presets.get(name)["fine_tuning"]``); ``overrides`` change solver and loss
        options. Call ``compile`` again to train otherwise."""
        return presets.load(cls, name, cls.SHAPE_KEYS, **overrides)

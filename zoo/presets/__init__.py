"""Presets: architectures with small trained weights shipped inside the package.

Each preset is a folder here with ``config.json`` (the class, its constructor arguments, how the
weights were trained, what they score and how to fine-tune them) and ``model.weights.h5``;
``tools/train_presets.py`` retrains them reproducibly.
"""

import json
from pathlib import Path

import keras

_ROOT = Path(__file__).resolve().parent


def list():  # noqa: A001 - the keras-hub style name the issue asks for
    """Names of the shipped presets."""
    return sorted(p.name for p in _ROOT.iterdir() if (p / "config.json").exists())


def get(name):
    """A preset's description: ``class``, ``config``, ``training``, ``metrics``, ``fine_tuning`` (the
    optimizer ``from_preset`` compiles with, and what an epoch with it did) and ``weights`` (path)."""
    folder = _ROOT / str(name)
    if not (folder / "config.json").exists():
        raise ValueError(f"Unknown preset {name!r}; available: {', '.join(list()) or 'none'}.")
    description = json.loads((folder / "config.json").read_text())
    description["weights"] = str(folder / "model.weights.h5")
    return description


def path(name):
    """The folder of a preset."""
    get(name)
    return _ROOT / str(name)


def load(cls, name, shape_keys, **overrides):
    """A ``cls`` preset with its weights, compiled with its ``fine_tuning`` optimizer (and ``cls``'s
    default loss and metrics). ``overrides`` replace constructor arguments, except ``shape_keys``,
    which the weights fix."""
    preset = get(name)
    if preset["class"] != cls.__name__:
        raise ValueError(f"Preset {name!r} is a {preset['class']}, not a {cls.__name__}.")
    fixed = set(shape_keys) & set(overrides)
    if fixed:
        raise ValueError(f"from_preset: {', '.join(sorted(fixed))} would not fit the preset's weights; build the "
                         "model directly to change them.")
    model = cls(**dict(preset["config"], **overrides))
    model.load_weights(preset["weights"])
    model.compile(optimizer=keras.optimizers.get(preset["fine_tuning"]["optimizer"]))
    # Built now, the optimizer's state goes into a model.keras saved before any training and comes
    # back from it; unbuilt, loading warns of a variable-count mismatch and drops it.
    model.optimizer.build(model.trainable_variables)
    return model

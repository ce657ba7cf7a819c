"""Presets: architectures with small trained weights shipped inside the package.

Each preset is a folder here with ``config.json`` (the class, its constructor arguments, how the
weights were trained, what they score and how to fine-tune them) and ``model.weights.h5``;
``tools/train_presets.py`` retrains them reproducibly.
"""

import json
from pathlib import Path

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

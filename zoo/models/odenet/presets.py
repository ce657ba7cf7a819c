"""The ODE-Net's presets, shipped in ``zoo/presets/<name>/`` (``tools/train_presets.py`` trains them)."""

PRESETS = ("odenet_digits",)

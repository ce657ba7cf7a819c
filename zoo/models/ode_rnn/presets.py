"""The ODE-RNN forecaster's presets, shipped in ``zoo/presets/<name>/``: none (it is the baseline)."""

PRESETS = ()

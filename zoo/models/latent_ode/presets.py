"""The latent ODE's presets, shipped in ``zoo/presets/<name>/`` (``tools/train_presets.py`` trains them)."""

PRESETS = ("latent_ode_spirals", "latent_ode_periodic")

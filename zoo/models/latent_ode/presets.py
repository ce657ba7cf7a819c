"""The latent ODE's presets, shipped in ``zoo/presets/<name>/``: none yet (issue 13 trains them)."""

PRESETS = ()

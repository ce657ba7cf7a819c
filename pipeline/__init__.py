"""The odezoo TFX pipeline: definition, configs, local runner and the `odezoo` CLI."""

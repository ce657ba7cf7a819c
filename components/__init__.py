"""Custom TFX components and module files for odezoo pipelines."""

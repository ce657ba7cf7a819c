"""Datasets that work offline, with deterministic splits (``SPLITS``): images (``digits``, ``mnist``)
and time series (``spirals``)."""

from zoo.datasets.images import SPLITS, digits, digits_arrays, mnist
from zoo.datasets.series import spiral_curves, spirals, spirals_arrays

__all__ = ["SPLITS", "digits", "digits_arrays", "mnist", "spiral_curves", "spirals", "spirals_arrays"]

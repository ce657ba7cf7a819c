"""Datasets that work offline, with deterministic splits (``SPLITS``): images (``digits``, ``mnist``)."""

from zoo.datasets.images import SPLITS, digits, digits_arrays, mnist

__all__ = ["SPLITS", "digits", "digits_arrays", "mnist"]

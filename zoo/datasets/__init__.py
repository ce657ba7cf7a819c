"""Datasets that work offline, with deterministic splits (``SPLITS``): images (``digits``, ``mnist``)
and time series in the latent ODE's input contract (``spirals``, Rubanova et al.'s ``periodic`` toy data,
and windows of the real weekly Mauna Loa ``co2`` record with its missing weeks masked), and densities for
the continuous normalizing flow (FFJORD's ``toy_density`` shapes, ``digits_density`` in logit space)."""

from zoo.datasets.densities import TOY_DENSITIES, TOY_ENTROPY, bits_per_dim, digits_density, toy_density
from zoo.datasets.images import SPLITS, digits, digits_arrays, mnist
from zoo.datasets.series import (co2, co2_arrays, co2_series, co2_statistics, periodic, periodic_arrays,
                                 periodic_curves, spiral_curves, spirals, spirals_arrays)

__all__ = ["SPLITS", "TOY_DENSITIES", "TOY_ENTROPY", "bits_per_dim", "digits_density", "toy_density", "co2", "co2_arrays", "co2_series", "co2_statistics", "digits", "digits_arrays", "mnist",
           "periodic", "periodic_arrays", "periodic_curves", "spiral_curves", "spirals", "spirals_arrays"]

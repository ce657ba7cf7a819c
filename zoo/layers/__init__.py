"""Keras 3 layers for neural ODEs: the ODE block and the building blocks of vector fields."""

from zoo.layers.concat import ConcatConv2D, ConcatDense
from zoo.layers.ode_block import MeanPerBatch, ODEBlock

__all__ = ["ConcatConv2D", "ConcatDense", "MeanPerBatch", "ODEBlock"]

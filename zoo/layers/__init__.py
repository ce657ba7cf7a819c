"""Keras 3 layers for neural ODEs: the ODE block, the ODE-RNN and the building blocks of vector fields."""

from zoo.layers.concat import ConcatConv2D, ConcatDense, ConcatSquashDense
from zoo.layers.ode_block import MeanPerBatch, ODEBlock
from zoo.layers.ode_rnn import ODERNN, ODERNNCell

__all__ = ["ConcatConv2D", "ConcatDense", "ConcatSquashDense", "MeanPerBatch", "ODEBlock", "ODERNN", "ODERNNCell"]

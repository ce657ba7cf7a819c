"""FFJORD's continuous normalizing flow (Grathwohl et al. 2019): the model and its parts."""

from zoo.models.cnf.flow import ConcatSquashField, ContinuousFlow
from zoo.models.cnf.model import CNF, LEARNING_RATE

__all__ = ["CNF", "ConcatSquashField", "ContinuousFlow", "LEARNING_RATE"]

"""The latent ODE of Rubanova, Chen and Duvenaud (2019): the model, its parts and its presets."""

from zoo.models.latent_ode.model import INPUT_KEYS, LEARNING_RATE, KLAnnealing, LatentODE
from zoo.models.latent_ode.parts import GaussianDecoder, LatentTrajectory, PosteriorEncoder
from zoo.models.latent_ode.presets import PRESETS

MODEL = LatentODE

__all__ = ["GaussianDecoder", "INPUT_KEYS", "KLAnnealing", "LEARNING_RATE", "LatentODE", "LatentTrajectory",
           "MODEL", "PRESETS", "PosteriorEncoder"]

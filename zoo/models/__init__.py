"""The zoo's architectures, one folder per family (``zoo/models/<family>/``), each a functional
``keras.Model`` subclass with ``get_config``/``from_config``/``from_preset``.

``FAMILIES`` maps the names the pipeline and the command line use to the family's module, which
names its ``MODEL`` class and its ``PRESETS``.
"""

from zoo.models import latent_ode, ode_rnn, odenet
from zoo.models.latent_ode import LatentODE
from zoo.models.ode_rnn import ODERNNForecaster
from zoo.models.odenet import ODENetClassifier

FAMILIES = {"odenet": odenet, "latent_ode": latent_ode, "ode_rnn": ode_rnn}


def family(name):
    """The family module registered as ``name``."""
    if name not in FAMILIES:
        raise ValueError(f"Unknown model {name!r}; choose one of: {', '.join(FAMILIES)}.")
    return FAMILIES[name]


def family_of_preset(preset):
    """The name of the family whose preset ``preset`` is."""
    for name, module in FAMILIES.items():
        if preset in module.PRESETS:
            return name
    known = ", ".join(p for module in FAMILIES.values() for p in module.PRESETS)
    raise ValueError(f"Unknown preset {preset!r}; available: {known}.")


def from_preset(preset, **kwargs):
    """The preset's model, as its class's ``from_preset`` builds it."""
    return family(family_of_preset(preset)).MODEL.from_preset(preset, **kwargs)


__all__ = ["FAMILIES", "LatentODE", "ODENetClassifier", "ODERNNForecaster", "family", "family_of_preset", "from_preset"]

"""The pipeline's tasks. Each ``components/tasks/<task>/`` holds one task's module code, in modules
of fixed names that ``create_pipeline`` and the command line look up by the model's name:

- the package itself (``settings(model)``): the task's defaults, light to import: ``DEFAULT_DATA``,
  ``EMBEDDED_DATA`` (the sources that ship with odezoo), ``ZOO_SOURCES`` (the ``--data`` kinds
  ZooExampleGen writes; the other file sources go to TFX's own ExampleGens), ``EPOCHS``,
  ``BATCH_SIZE``, ``LEARNING_RATE``, ``FINE_TUNING_LEARNING_RATE``, ``FROZEN_BODY_EPOCHS``,
  ``MODEL_OPTIONS`` (by model), and the blessing: ``METRIC_NAME``,
  ``THRESHOLD``, ``TOLERANCE``, ``THRESHOLD_OPTION`` (the command-line flag that sets it) and
  ``check_threshold(value)``;
- ``examples.serialized_examples(source, split, limit, options)``: what ZooExampleGen writes;
- ``features``: the names and layouts of the task's examples (light: no TensorFlow);
- ``data_checks.check(config)``: what a ``--data`` source holds, checked before any component runs;
- ``preprocessing.preprocessing_fn``: Transform's module code;
- ``trainer.run_fn``: the Trainer's module code, which writes the serving SavedModel and, beside
  it, ``KERAS_FILE`` for fine-tuning;
- ``evaluation``: ``eval_config(config, with_baseline)`` (TFMA) and ``why_not_blessed(report, config)``.

This module is light to import, so that bad arguments fail before TensorFlow loads.
"""

import importlib

# The task that trains each zoo family (zoo.models.FAMILIES), by the family's name.
TASK_OF_MODEL = {"odenet": "classification", "latent_ode": "forecasting", "ode_rnn": "forecasting"}
MODELS = tuple(TASK_OF_MODEL)
# The Keras file every task's Trainer writes beside its SavedModel; a base model is read from it.
KERAS_FILE = "model.keras"


def task_name(model):
    if model not in TASK_OF_MODEL:
        raise ValueError(f"Unknown model {model!r}; choose one of: {', '.join(MODELS)}.")
    return TASK_OF_MODEL[model]


def settings(model):
    """The task package of ``model``, whose constants are the task's defaults."""
    return importlib.import_module(f"{__name__}.{task_name(model)}")


def threshold_options():
    """Every task's threshold flag, each once (``--accuracy-threshold``, ...)."""
    return tuple(dict.fromkeys(importlib.import_module(f"{__name__}.{task}").THRESHOLD_OPTION
                               for task in TASK_OF_MODEL.values()))


def module(model, name):
    """The task module ``name`` (``features``, ``data_checks``, ...) of ``model``'s task."""
    return importlib.import_module(f"{__name__}.{task_name(model)}.{name}")


def dotted(model, name):
    """The dotted path of a task function (``preprocessing.preprocessing_fn``), as TFX takes it."""
    return f"{__name__}.{task_name(model)}.{name}"

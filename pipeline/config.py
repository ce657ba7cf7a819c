"""The pipeline's configuration, in one place: what to train, on what, where to write, and the
threshold a model must pass to be pushed. Every default that depends on the task (the data, the
epochs, the learning rates, the threshold) comes from the model's task (``components.tasks``)."""

import dataclasses
import os
from pathlib import Path

from components import tasks
from components.sources import FILE_SOURCES

DEFAULT_ROOT = Path("pipeline_output")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Every setting of a run. ``data`` is one of the task's embedded sources (``digits``; or
    ``spirals``, ``periodic``, ``co2`` for the series models), ``tfds:NAME[@DATA_DIR]`` (a prepared
    tensorflow-datasets copy, for images), ``csv:PATH`` (a CSV file, or a folder whose every file is
    a CSV with the same header; the task's ``data_checks`` check the layout) or ``tfrecord:PATH`` (a
    file or a folder of TFRecords of the task's raw ``tf.Example``s; GZIP when the names end in
    ``.gz``). Left None, ``data``, ``epochs``, ``batch_size``, ``model_options``, ``threshold``
    (accuracy at least, or forecast MSE at most) and ``tolerance`` (against the blessed baseline) take
    the task's defaults, and ``learning_rate`` its LEARNING_RATE, or FINE_TUNING_LEARNING_RATE with a
    ``base_model``.

    Classification only: ``pixel_max``, the value of a full-intensity pixel in csv: and tfrecord:
    data, which Transform divides every pixel by, and ``num_classes``. Forecasting only:
    ``horizon``, the points at the end of each series of a CSV that are held out and forecast.
    """

    name: str = "odezoo"
    model: str = "odenet"
    data: str | None = None
    pipeline_root: str = str(DEFAULT_ROOT / "root")
    metadata_path: str = str(DEFAULT_ROOT / "metadata.sqlite")
    serving_dir: str = str(DEFAULT_ROOT / "serving")
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    model_options: dict | None = None
    example_limit: int = 0
    base_model: str | None = None
    schema_path: str | None = None
    threshold: float | None = None
    tolerance: float | None = None
    num_classes: int = 10
    pixel_max: float = 1.0
    horizon: int | None = None

    def __post_init__(self):
        task = tasks.settings(self.model)  # raises for an unknown model
        defaults = {"data": task.DEFAULT_DATA, "epochs": task.EPOCHS, "batch_size": task.BATCH_SIZE,
                    "model_options": dict(task.MODEL_OPTIONS[self.model]), "threshold": task.THRESHOLD,
                    "tolerance": task.TOLERANCE,
                    "learning_rate": task.FINE_TUNING_LEARNING_RATE if self.base_model else task.LEARNING_RATE}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        kind, _, path = self.data.partition(":")
        prefixed = ["tfds"] * ("tfds" in task.ZOO_SOURCES) + list(FILE_SOURCES)
        if self.data not in task.EMBEDDED_DATA and not (path and kind in prefixed):
            choices = list(task.EMBEDDED_DATA) + [f"{kind}:{'NAME' if kind == 'tfds' else 'PATH'}" for kind in prefixed]
            raise ValueError(f"Unknown data source {self.data!r} for --model {self.model}; use "
                             f"{', '.join(choices[:-1])} or {choices[-1]}.")
        if kind in FILE_SOURCES and not os.path.exists(path):
            raise ValueError(f"Data source {self.data!r}: {path!r} does not exist.")
        if kind == "tfds" and not path:
            raise ValueError("Data source 'tfds:' needs a dataset name, e.g. tfds:mnist.")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}.")
        if self.example_limit < 0:
            raise ValueError(f"--limit must be 0 (every example) or a positive number of examples per split, "
                             f"got {self.example_limit}.")
        if self.example_limit and kind in FILE_SOURCES:
            limited = " and ".join([", ".join(task.EMBEDDED_DATA)] + (["tfds:"] if "tfds" in prefixed else []))
            raise ValueError(f"--limit applies to {limited} sources; {kind}: data is read whole, so give a "
                             "smaller file instead.")
        if self.pixel_max <= 0:
            raise ValueError(f"--pixel-max must be positive, got {self.pixel_max}.")
        task_name = tasks.task_name(self.model)
        if self.pixel_max != 1 and task_name != "classification":
            raise ValueError(f"--pixel-max applies to image classification (odenet), not to --model {self.model}.")
        if self.pixel_max != 1 and kind not in FILE_SOURCES:
            raise ValueError(f"--pixel-max applies to csv: and tfrecord: sources; {self.data} examples already hold "
                             "pixels in [0, 1].")
        if self.horizon is not None and (kind != "csv" or task_name != "forecasting"):
            raise ValueError(f"--horizon applies to a csv: source of series (--model latent_ode or ode_rnn); "
                             f"{self.data} for --model {self.model} fixes its queries itself.")
        if self.horizon is not None and self.horizon < 1:
            raise ValueError(f"--horizon must be at least 1 point, got {self.horizon}.")
        if not self.learning_rate > 0:
            raise ValueError(f"--learning-rate must be positive, got {self.learning_rate}.")
        task.check_threshold(self.threshold)

    @classmethod
    def from_args(cls, args, **fields):
        """The config of the options ``odezoo run`` and ``odezoo kubeflow compile`` share
        (``pipeline.cli.add_pipeline_options``), with ``fields`` set as given."""
        task = tasks.settings(args.model)
        thresholds = {option: getattr(args, option[2:].replace("-", "_")) for option in tasks.threshold_options()}
        for option, value in thresholds.items():
            if value is not None and option != task.THRESHOLD_OPTION:
                raise ValueError(f"{option} does not apply to --model {args.model}, which is blessed on its "
                                 f"{task.METRIC_NAME}: use {task.THRESHOLD_OPTION}.")
        return cls(model=args.model, data=args.data, epochs=args.epochs, example_limit=args.limit,
                   pixel_max=args.pixel_max, horizon=args.horizon, learning_rate=args.learning_rate,
                   threshold=thresholds[task.THRESHOLD_OPTION], **fields)

    def task_options(self):
        """What ZooExampleGen passes to the task's ``serialized_examples``."""
        return {"horizon": self.horizon} if self.horizon is not None else {}

    def trainer_config(self):
        return {"model": self.model, "num_classes": self.num_classes, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "frozen_body_epochs": tasks.settings(self.model).FROZEN_BODY_EPOCHS if self.base_model else 0,
                "model_options": dict(self.model_options)}

    def transform_config(self):
        return {"pixel_max": self.pixel_max}

"""The pipeline's configuration, in one place: what to train, on what, where to write, and the
thresholds a model must pass to be pushed."""

import dataclasses
import os
from pathlib import Path

from components.sources import FILE_SOURCES
from components.tasks import MODELS

DEFAULT_ROOT = Path("pipeline_output")

# Adam's learning rate from scratch, and for fine-tuning: ten times lower, so that training on the new
# data does not undo the base model.
LEARNING_RATE = 3e-3
FINE_TUNING_LEARNING_RATE = 3e-4
# Fine-tuning first trains the classifier head alone for this many epochs: one epoch of whole-model
# updates on digits moved the odenet_digits preset's eval accuracy from 0.983 to 0.958 at the
# from-scratch rate and to 0.978-0.981 at 1e-4 to 3e-4; head alone, it stayed at 0.983.
FROZEN_BODY_EPOCHS = 1

ACCURACY_THRESHOLD = 0.9
# --limit runs keep it: one epoch on 300 digits from scratch is 5 Adam steps, whose model scored 0.09
# (guessing scores 0.10), so no threshold such a run passes would tell a model from an untrained one.
# A --limit run fine-tuning a preset passes it in one epoch.
# A model may lose this much accuracy against the last blessed model: about two standard errors of an
# accuracy near 0.97 on the 359 digits of the eval split, so noise alone does not block a push.
ACCURACY_TOLERANCE = 0.02


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Every setting of a run. ``data`` is ``digits`` (embedded), ``tfds:NAME[@DATA_DIR]`` (a prepared
    tensorflow-datasets copy), ``csv:PATH`` (a CSV file, or a folder whose every file is a CSV with the
    same header; the task's ``data_checks`` check the layout) or ``tfrecord:PATH`` (a file or a
    folder of TFRecords of ``tf.Example`` with a float ``image`` and an int64 ``label``; GZIP when
    the names end in ``.gz``). ``pixel_max`` is the value of a full-intensity pixel in csv: and tfrecord:
    data: Transform divides every pixel by it. Left None, ``learning_rate`` becomes LEARNING_RATE, or
    FINE_TUNING_LEARNING_RATE with a ``base_model``."""

    name: str = "odezoo"
    model: str = "odenet"
    data: str = "digits"
    pipeline_root: str = str(DEFAULT_ROOT / "root")
    metadata_path: str = str(DEFAULT_ROOT / "metadata.sqlite")
    serving_dir: str = str(DEFAULT_ROOT / "serving")
    epochs: int = 15
    batch_size: int = 64
    learning_rate: float | None = None
    num_classes: int = 10
    model_options: dict = dataclasses.field(default_factory=lambda: {"filters": 32, "groups": 8})
    example_limit: int = 0
    pixel_max: float = 1.0
    base_model: str | None = None
    schema_path: str | None = None
    accuracy_threshold: float = ACCURACY_THRESHOLD
    accuracy_tolerance: float = ACCURACY_TOLERANCE

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"Unknown model {self.model!r}; choose one of: {', '.join(MODELS)}.")
        kind, _, path = self.data.partition(":")
        if self.data != "digits" and kind not in ("tfds", *FILE_SOURCES):
            raise ValueError(f"Unknown data source {self.data!r}; use digits, tfds:NAME, csv:PATH or tfrecord:PATH.")
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
            raise ValueError(f"--limit applies to digits and tfds: sources; {kind}: data is read whole, so give a "
                             "smaller file instead.")
        if self.pixel_max <= 0:
            raise ValueError(f"--pixel-max must be positive, got {self.pixel_max}.")
        if self.pixel_max != 1 and kind not in FILE_SOURCES:
            raise ValueError(f"--pixel-max applies to csv: and tfrecord: sources; {self.data} examples already "
                             "hold pixels in [0, 1].")
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", FINE_TUNING_LEARNING_RATE if self.base_model else LEARNING_RATE)
        if not self.learning_rate > 0:
            raise ValueError(f"--learning-rate must be positive, got {self.learning_rate}.")
        if not 0 <= self.accuracy_threshold <= 1:
            raise ValueError(f"accuracy_threshold must be in [0, 1], got {self.accuracy_threshold}.")

    @classmethod
    def from_args(cls, args, **fields):
        """The config of the options ``odezoo run`` and ``odezoo kubeflow compile`` share
        (``pipeline.cli.add_pipeline_options``), with ``fields`` set as given."""
        given = {"epochs": args.epochs, "accuracy_threshold": args.accuracy_threshold}
        defaults_kept = {name: value for name, value in given.items() if value is not None}
        return cls(model=args.model, data=args.data, example_limit=args.limit, pixel_max=args.pixel_max,
                   learning_rate=args.learning_rate, **defaults_kept, **fields)

    def trainer_config(self):
        return {"model": self.model, "num_classes": self.num_classes, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "frozen_body_epochs": FROZEN_BODY_EPOCHS if self.base_model else 0,
                "model_options": dict(self.model_options)}

    def transform_config(self):
        return {"pixel_max": self.pixel_max}

"""The pipeline's configuration, in one place: what to train, on what, where to write, and the
thresholds a model must pass to be pushed."""

import dataclasses
import os
from pathlib import Path

MODELS = ("odenet",)
DEFAULT_ROOT = Path("pipeline_output")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Every setting of a run. ``data`` is ``digits`` (embedded), ``tfds:NAME[@DATA_DIR]`` (a prepared
    tensorflow-datasets copy), ``csv:PATH`` (a folder or file of CSVs with a ``label`` column and one
    column per pixel) or ``tfrecord:PATH`` (GZIP TFRecords of ``tf.Example`` with ``image`` and
    ``label``)."""

    name: str = "odezoo"
    model: str = "odenet"
    data: str = "digits"
    pipeline_root: str = str(DEFAULT_ROOT / "root")
    metadata_path: str = str(DEFAULT_ROOT / "metadata.sqlite")
    serving_dir: str = str(DEFAULT_ROOT / "serving")
    epochs: int = 15
    batch_size: int = 64
    learning_rate: float = 3e-3
    num_classes: int = 10
    model_options: dict = dataclasses.field(default_factory=lambda: {"filters": 32, "groups": 8})
    example_limit: int = 0
    base_model: str | None = None
    schema_path: str | None = None
    accuracy_threshold: float = 0.9
    # A push may lose this much accuracy against the last blessed model: about two standard errors of
    # an accuracy near 0.97 on the 359 digits of the eval split, so noise alone does not block it.
    accuracy_tolerance: float = 0.02

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"Unknown model {self.model!r}; choose one of: {', '.join(MODELS)}.")
        kind, _, path = self.data.partition(":")
        if self.data != "digits" and kind not in ("tfds", "csv", "tfrecord"):
            raise ValueError(f"Unknown data source {self.data!r}; use digits, tfds:NAME, csv:PATH or tfrecord:PATH.")
        if kind in ("csv", "tfrecord") and not os.path.exists(path):
            raise ValueError(f"Data source {self.data!r}: {path!r} does not exist.")
        if kind == "tfds" and not path:
            raise ValueError("Data source 'tfds:' needs a dataset name, e.g. tfds:mnist.")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}.")
        if not 0 <= self.accuracy_threshold <= 1:
            raise ValueError(f"accuracy_threshold must be in [0, 1], got {self.accuracy_threshold}.")

    def trainer_config(self):
        return {"model": self.model, "num_classes": self.num_classes, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "model_options": dict(self.model_options)}

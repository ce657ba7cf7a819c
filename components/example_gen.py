"""ExampleGen for the sources the zoo's tasks read themselves (the embedded datasets,
tensorflow-datasets, a forecasting CSV of long-format series).

Writes GZIP TFRecords of ``tf.Example`` into ``Split-train`` and ``Split-eval`` of an Examples
artifact, the layout every standard TFX component reads; the task's
``examples.serialized_examples`` makes the examples (``components.tasks``).
"""

import importlib
import json
import os

import tensorflow as tf
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

import zoo


@component
def ZooExampleGen(examples: OutputArtifact[standard_artifacts.Examples], source: Parameter[str],  # noqa: N802
                  task: Parameter[str] = "classification", limit: Parameter[int] = 0,
                  options: Parameter[str] = "{}"):
    """Writes ``source`` as train and eval splits of ``task``'s examples; ``limit`` caps the examples
    per split (0: all); ``options`` (JSON) are the task's source options."""
    writer_module = importlib.import_module(f"components.tasks.{task}.examples")
    for split in zoo.datasets.SPLITS:
        folder = os.path.join(examples.uri, f"Split-{split}")
        tf.io.gfile.makedirs(folder)
        path = os.path.join(folder, "data_tfrecord-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for example in writer_module.serialized_examples(source, split, limit, json.loads(options)):
                writer.write(example)
    examples.split_names = artifact_utils.encode_split_names(list(zoo.datasets.SPLITS))

"""A gate between ExampleValidator and Transform: it fails the run, before anything is trained or
pushed, when the validator found anomalies, and names each anomalous column and what is wrong."""

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts


def anomaly_report(anomalies_uri, split_names):
    """Lines 'split: column: description' for every anomaly the validator recorded."""
    lines = []
    for split in split_names:
        path = os.path.join(anomalies_uri, f"Split-{split}", "SchemaDiff.pb")
        if not tf.io.gfile.exists(path):
            continue
        anomalies = anomalies_pb2.Anomalies()
        anomalies.ParseFromString(tf.io.gfile.GFile(path, "rb").read())
        for column, info in sorted(anomalies.anomaly_info.items()):
            lines.append(f"{split}: column '{column}': {info.short_description or info.description}")
        if anomalies.HasField("dataset_anomaly_info"):
            lines.append(f"{split}: dataset: {anomalies.dataset_anomaly_info.description}")
    return lines


@component
def ValidationGate(anomalies: InputArtifact[standard_artifacts.ExampleAnomalies]):  # noqa: N802
    """Raises when ``anomalies`` holds any anomaly; Transform runs after this gate."""
    lines = anomaly_report(anomalies.uri, artifact_utils.decode_split_names(anomalies.split_names))
    if lines:
        raise RuntimeError("ExampleValidator found anomalies; the run stops before training and nothing is "
                           "pushed:\n  " + "\n  ".join(lines))

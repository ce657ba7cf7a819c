"""Runs the pipeline on this machine: TFX's LocalDagRunner with a SQLite ML Metadata store, then
reads the run's outcome back from ML Metadata."""

import dataclasses
import os
import time

from tfx import v1 as tfx

from pipeline.pipeline import create_pipeline


@dataclasses.dataclass
class RunReport:
    components: list  # (component id, state, seconds)
    metrics: dict  # the trained model's, on the eval split
    changes: dict  # metrics minus the blessed baseline's (empty without a baseline)
    failed_checks: set  # of the blessing: "threshold" (the absolute one) and "baseline" (the change)
    blessed: bool | None
    pushed: str | None
    error: str | None
    seconds: float

    @property
    def ok(self):
        return self.error is None and self.blessed and self.pushed is not None


def run(config):
    """Runs ``config``'s pipeline and returns a RunReport (never raises for a failed component)."""
    os.makedirs(os.path.dirname(os.path.abspath(config.metadata_path)), exist_ok=True)
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    pipeline = create_pipeline(config, metadata_connection_config=connection)
    started = time.time()
    error = None
    try:
        tfx.orchestration.LocalDagRunner().run(pipeline)
    except Exception as exception:  # a component failed: report it, push nothing more
        error = f"{type(exception).__name__}: {exception}"
    report = read_report(config, started)
    report.error, report.seconds = error, time.time() - started
    return report


def read_report(config, since):
    """Each component's last execution since ``since`` (a Unix time), the Evaluator's metrics, the
    blessing and the pushed path, from the run's ML Metadata."""
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    store = metadata_store.MetadataStore(connection)
    states = {v: k for k, v in metadata_store_pb2.Execution.State.items()}
    components, executions = [], {}
    for execution in sorted(store.get_executions(), key=lambda e: e.create_time_since_epoch):
        if execution.create_time_since_epoch / 1000 < since - 1:
            continue
        name = _node_name(store, execution)
        executions[name] = execution
        seconds = (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000
        components.append((name, states.get(execution.last_known_state, "?"), seconds))
    blessed, pushed, metrics, changes, failed_checks = None, None, {}, {}, set()
    if "Evaluator" in executions:
        for artifact in _outputs(store, executions["Evaluator"]):
            if "blessed" in artifact.custom_properties:
                blessed = bool(artifact.custom_properties["blessed"].int_value)
            elif artifact.uri and os.path.exists(os.path.join(artifact.uri, "eval_config.json")):
                metrics, changes = _metrics(artifact.uri)
                failed_checks = _failed_checks(artifact.uri)
    if "Pusher" in executions:
        for artifact in _outputs(store, executions["Pusher"]):
            if artifact.custom_properties.get("pushed") and artifact.custom_properties["pushed"].int_value:
                pushed = artifact.custom_properties["pushed_destination"].string_value
    return RunReport(components, metrics, changes, failed_checks, blessed, pushed, None, 0.0)


def _node_name(store, execution):
    contexts = store.get_contexts_by_execution(execution.id)
    for context in contexts:
        if context.name.count(".") >= 1 and context.type_id == _type_id(store, "node"):
            return context.name.split(".")[-1]
    return str(execution.type_id)


def _type_id(store, name):
    try:
        return store.get_context_type(name).id
    except Exception:  # noqa: BLE001 - no such type yet
        return -1


def _outputs(store, execution):
    events = [e for e in store.get_events_by_execution_ids([execution.id]) if e.type == e.OUTPUT]
    return store.get_artifacts_by_id([e.artifact_id for e in events])


def _metrics(uri):
    """The candidate model's overall metrics and, apart, their changes against the baseline: TFMA
    names the candidate's, the baseline's and the changes alike (``sparse_categorical_accuracy``)
    and tells them apart by the key's ``model_name`` and ``is_diff`` only."""
    import tensorflow_model_analysis as tfma

    metrics, changes = {}, {}
    for slice_metrics in tfma.load_metrics(uri):
        if slice_metrics.slice_key.single_slice_keys:
            continue
        for entry in slice_metrics.metric_keys_and_values:
            if entry.key.model_name == tfma.BASELINE_KEY or not entry.value.HasField("double_value"):
                continue
            (changes if entry.key.is_diff else metrics)[entry.key.name] = entry.value.double_value.value
    return metrics, changes


def _failed_checks(uri):
    import tensorflow_model_analysis as tfma

    result = tfma.load_validation_result(uri)
    return {"baseline" if failure.metric_key.is_diff else "threshold"
            for slice_result in result.metric_validations_per_slice for failure in slice_result.failures}

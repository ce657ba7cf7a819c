"""The local TFX pipeline end to end (tiny: a few hundred examples, one epoch), fine-tuning, and bad input."""

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ODEZOO = [sys.executable, "-m", "pipeline.cli", "run"]
COMPONENTS = ["ZooExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "ValidationGate", "Transform",
              "Trainer", "latest_blessed_model_resolver", "Evaluator", "Pusher"]

pytestmark = pytest.mark.slow


def odezoo_run(root, *args):
    completed = subprocess.run(ODEZOO + ["--pipeline-root", str(root), *args], capture_output=True, text=True,
                               cwd=ROOT, timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return completed.returncode, completed.stdout, completed.stderr


def component_states(stdout):
    states = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in COMPONENTS + ["CsvExampleGen", "base_model_importer"]:
            states[parts[0]] = parts[1]
    return states


def serving_versions(root):
    folder = Path(root) / "serving"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


_SCORE = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    assert "zoo" not in sys.modules
    model = tf.saved_model.load(sys.argv[1])
    serve = model.signatures["serving_default"]
    examples = tf.data.TFRecordDataset(tf.io.gfile.glob(sys.argv[2]), compression_type="GZIP")
    correct = total = 0
    for batch in examples.batch(128):
        labels = tf.io.parse_example(batch, {"label": tf.io.FixedLenFeature([], tf.int64)})["label"]
        classes = serve(examples=batch)["classes"]
        correct += int(tf.reduce_sum(tf.cast(tf.cast(classes, tf.int64) == labels, tf.int32)))
        total += int(batch.shape[0])
    print(json.dumps({"accuracy": correct / total, "total": total}))
""")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    code, stdout, stderr = odezoo_run(root, "--limit", "300", "--epochs", "1", "--accuracy-threshold", "0.0")
    return root, code, stdout, stderr


def test_end_to_end_run_pushes_a_model_that_loads_and_scores(first_run):
    root, code, stdout, stderr = first_run
    assert code == 0, stderr[-3000:]
    states = component_states(stdout)
    assert all(states.get(name) == "COMPLETE" for name in COMPONENTS), states
    assert "blessed: True" in stdout and "sparse_categorical_accuracy=" in stdout

    from ml_metadata import metadata_store
    from tfx import v1 as tfx

    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(str(root / "metadata.sqlite")))
    types = {t.id: t.name for t in store.get_artifact_types()}
    produced = {types[a.type_id] for a in store.get_artifacts()}
    assert {"Examples", "ExampleStatistics", "Schema", "ExampleAnomalies", "TransformGraph", "Model", "ModelRun",
            "ModelEvaluation", "ModelBlessing", "PushedModel"} <= produced
    blessing = [a for a in store.get_artifacts() if types[a.type_id] == "ModelBlessing"][0]
    assert blessing.custom_properties["blessed"].int_value == 1

    versions = serving_versions(root)
    assert len(versions) == 1
    pushed = root / "serving" / versions[0]
    assert (pushed / "saved_model.pb").exists() and (pushed / "model.keras").exists()
    eval_files = str(next((root / "root" / "ZooExampleGen" / "examples").iterdir()) / "Split-eval" / "*")
    completed = subprocess.run([sys.executable, "-c", _SCORE, str(pushed), eval_files], capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    score = json.loads(completed.stdout.strip().splitlines()[-1])
    assert score["total"] == 300 and score["accuracy"] > 0.2  # one epoch on 300 digits: well above chance


def test_unblessed_model_is_not_pushed_and_the_rerun_reuses_the_cache(first_run):
    root, code, _, _ = first_run
    assert code == 0
    before = serving_versions(root)
    code, stdout, stderr = odezoo_run(root, "--limit", "300", "--epochs", "1", "--accuracy-threshold", "0.999")
    assert code == 1
    assert "not blessed" in stderr and "nothing was pushed" in stderr
    states = component_states(stdout)
    for name in ("ZooExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer"):
        assert states[name] == "CACHED", states
    assert states["Evaluator"] == "COMPLETE" and "blessed: False" in stdout
    assert serving_versions(root) == before


def test_fine_tune_from_the_pushed_model(first_run, tmp_path):
    root, code, _, _ = first_run
    assert code == 0
    pushed = root / "serving" / serving_versions(root)[0]
    code, stdout, stderr = odezoo_run(tmp_path, "--limit", "300", "--epochs", "1", "--accuracy-threshold", "0.0",
                                      "--base-model", str(pushed))
    assert code == 0, stderr[-3000:]
    assert component_states(stdout)["base_model_importer"] == "COMPLETE"
    from ml_metadata import metadata_store
    from tfx import v1 as tfx

    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(str(tmp_path / "metadata.sqlite")))
    models = [a for a in store.get_artifacts_by_type("Model")]
    assert any(a.uri == str(pushed) for a in models)  # the Importer registered the base model
    assert len(serving_versions(tmp_path)) == 1


def write_digits_csv(path, rows, drop=None, corrupt=None, malformed=False):
    from zoo.datasets import digits_arrays

    images, labels = digits_arrays("train")
    header = [f"p{i}" for i in range(64)] + ["label"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        columns = [c for c in header if c != drop]
        writer.writerow(columns)
        for index in range(rows):
            values = dict(zip(header, list(np.round(images[index].ravel(), 4)) + [int(labels[index])]))
            if corrupt and index % 3 == 0:
                values[corrupt] = "oops"
            row = [values[c] for c in columns]
            if malformed and index == 5:
                row = row[:10]
            writer.writerow(row)


@pytest.fixture(scope="module")
def good_csv_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv_good")
    data = folder / "data"
    data.mkdir()
    write_digits_csv(data / "digits.csv", 200)
    root = folder / "run"
    code, stdout, stderr = odezoo_run(root, "--data", f"csv:{data}", "--epochs", "1", "--accuracy-threshold", "0.0")
    schema = next((root / "root" / "SchemaGen" / "schema").iterdir()) / "schema.pbtxt"
    return root, code, stdout, stderr, schema


def test_csv_data_source_runs_and_pushes(good_csv_run):
    root, code, stdout, stderr, schema = good_csv_run
    assert code == 0, stderr[-3000:]
    assert component_states(stdout)["CsvExampleGen"] == "COMPLETE" and schema.exists()
    assert len(serving_versions(root)) == 1


@pytest.mark.parametrize("defect,column", [("missing", "p30"), ("values", "p7")])
def test_bad_csv_stops_before_training_naming_the_column(good_csv_run, tmp_path, defect, column):
    root, code, _, _, schema = good_csv_run
    assert code == 0
    before = serving_versions(root)
    data = tmp_path / "data"
    data.mkdir()
    if defect == "missing":
        write_digits_csv(data / "digits.csv", 200, drop=column)
    else:
        write_digits_csv(data / "digits.csv", 200, corrupt=column)
    code, stdout, stderr = odezoo_run(root, "--data", f"csv:{data}", "--epochs", "1", "--schema", str(schema),
                                      "--accuracy-threshold", "0.0")
    assert code == 1
    assert "ExampleValidator found anomalies" in stderr and f"column '{column}'" in stderr
    states = component_states(stdout)
    assert states["ValidationGate"] == "FAILED" and "Trainer" not in states and "Pusher" not in states
    assert serving_versions(root) == before  # the previous pushed model is untouched


def test_malformed_csv_row_fails_before_training(good_csv_run, tmp_path):
    root, code, _, _, _ = good_csv_run
    before = serving_versions(root)
    data = tmp_path / "data"
    data.mkdir()
    write_digits_csv(data / "digits.csv", 50, malformed=True)
    code, stdout, stderr = odezoo_run(root, "--data", f"csv:{data}", "--epochs", "1")
    assert code == 1 and "the run failed" in stderr
    assert "Trainer" not in component_states(stdout) and serving_versions(root) == before


@pytest.mark.parametrize("args,message", [(["--model", "resnet"], "Unknown model 'resnet'"),
                                          (["--data", "kaggle:x"], "Unknown data source 'kaggle:x'"),
                                          (["--data", "csv:/nonexistent"], "does not exist"),
                                          (["--base-model", "nope"], "neither a folder nor a preset")])
def test_bad_arguments_fail_before_any_component(tmp_path, args, message):
    code, stdout, stderr = odezoo_run(tmp_path, *args)
    assert code == 2 and message in stderr
    assert not (tmp_path / "metadata.sqlite").exists()


@pytest.mark.parametrize("base", ["odenet_digits"])
def test_a_preset_base_model_becomes_an_importable_folder(tmp_path, base):
    from pipeline.run_command import resolve_base_model

    folder = Path(resolve_base_model(base, tmp_path))
    assert (folder / "model.keras").exists()
    import keras

    import zoo

    model = keras.saving.load_model(folder / "model.keras")
    preset = zoo.ODENetClassifier.from_preset(base)
    images, _ = zoo.datasets.digits_arrays("eval")
    np.testing.assert_array_equal(model.predict(images[:8], verbose=0), preset.predict(images[:8], verbose=0))

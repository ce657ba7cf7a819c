"""The local TFX pipeline end to end (tiny: a few hundred examples, one epoch) on every data source,
blessing decided by the threshold and by the baseline, fine-tuning, the serving contract, and bad
input refused before any component runs.

The digits runs share one pipeline root, in order: a short first run from scratch (below the
threshold: not pushed), a fine-tuned preset (pushed), the first run's model again with the absolute
threshold off (worse than the blessed baseline: not pushed), and the pushed model fine-tuned on the
digits as a TFRecord file (comparable to the baseline: pushed).
"""

import csv
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from components.tasks.classification.evaluation import ACCURACY_METRIC
from components.tasks.classification import FINE_TUNING_LEARNING_RATE, FROZEN_BODY_EPOCHS, LEARNING_RATE
from components.tasks.classification import THRESHOLD as ACCURACY_THRESHOLD
from components.tasks.classification import TOLERANCE as ACCURACY_TOLERANCE
from pipeline.config import PipelineConfig

ROOT = Path(__file__).resolve().parents[1]
ODEZOO = [sys.executable, "-m", "pipeline.cli", "run"]
COMPONENTS = ["ZooExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "ValidationGate", "Transform",
              "Trainer", "latest_blessed_model_resolver", "Evaluator", "Pusher"]
UPSTREAM = ["StatisticsGen", "SchemaGen", "ExampleValidator", "ValidationGate", "Transform"]
LIMIT = "300"  # examples per split of the digits runs
PIXELS = [f"p{i}" for i in range(64)]
CONTRACT = {"inputs": {"examples": "string"}, "outputs": ["classes", "logits", "probabilities"]}


def odezoo_run(root, *args):
    completed = subprocess.run(ODEZOO + ["--pipeline-root", str(root), *args], capture_output=True, text=True,
                               cwd=ROOT, timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return completed.returncode, completed.stdout, completed.stderr


def component_states(stdout):
    states = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in COMPONENTS + ["CsvExampleGen", "ImportExampleGen", "base_model_importer"]:
            states[parts[0]] = parts[1]
    return states


def printed(stdout, prefix, separator):
    """The figures of the summary line starting with ``prefix`` ('name=value' or 'name +change'), or {}."""
    for line in stdout.splitlines():
        if line.startswith(prefix):
            pairs = (item.split(separator) for item in line[len(prefix):].split(", "))
            return {name.strip(): float(value) for name, value in pairs}
    return {}


def eval_metrics(stdout):
    return printed(stdout, "eval metrics: ", "=")


def baseline_changes(stdout):
    return printed(stdout, "against the blessed baseline: ", " ")


def serving_versions(root):
    folder = Path(root) / "serving"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def latest_pushed(root):
    return Path(root) / "serving" / serving_versions(root)[-1]


def metadata_store(root):
    """The run's ML Metadata, opened without TFX (which takes a minute to import here)."""
    from ml_metadata import metadata_store as mlmd
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(Path(root) / "metadata.sqlite")
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return mlmd.MetadataStore(config)


def serve(pushed, examples):
    """The pushed model's serving_default on ``examples`` (a glob of GZIP TFRecords of tf.Examples with
    a float ``image`` and a label): its accuracy, how many, and the signature's inputs and outputs."""
    import tensorflow as tf

    signature = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    correct = total = 0
    for batch in tf.data.TFRecordDataset(tf.io.gfile.glob(str(examples)), compression_type="GZIP").batch(128):
        labels = tf.io.parse_example(batch, {"label": tf.io.FixedLenFeature([], tf.int64)})["label"]
        outputs = signature(examples=batch)
        correct += int(tf.reduce_sum(tf.cast(tf.cast(outputs["classes"], tf.int64) == labels, tf.int32)))
        total += int(batch.shape[0])
    inputs = {name: spec.dtype.name for name, spec in signature.structured_input_signature[1].items()}
    return {"accuracy": correct / total, "total": total, "inputs": inputs, "outputs": sorted(outputs)}


def serve_without_odezoo(pushed, examples, serve_function=serve):
    """``serve_function`` (``serve`` by default) in a fresh process that never imports odezoo."""
    script = inspect.getsource(serve_function) + textwrap.dedent(f"""
        import json, sys
        result = {serve_function.__name__}({str(pushed)!r}, {str(examples)!r})
        assert "zoo" not in sys.modules
        print(json.dumps(result))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def image_example(image, label):
    import tensorflow as tf

    return tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(image, np.float32).ravel())),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
    })).SerializeToString()


def write_tfrecord(path, images, labels, compression="GZIP"):
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(path), options=compression) as writer:
        for image, label in zip(images, labels):
            writer.write(image_example(image, label))


@pytest.fixture(scope="module")
def contract_examples(tmp_path_factory):
    """The serving contract's input: the digits the digits runs evaluate on, as float ``image`` examples."""
    from zoo.datasets import digits_arrays

    images, labels = digits_arrays("eval")
    path = tmp_path_factory.mktemp("contract") / "eval.tfrecord.gz"
    write_tfrecord(path, images[:int(LIMIT)], labels[:int(LIMIT)])
    return path


def write_digits_csv(path, rows, columns=None, edit=None):
    """The first ``rows`` digits of the train split as a CSV of scikit-learn's raw integer pixels (0..16):
    ``columns`` (default p0..p63 and label); ``edit(index, values)`` may change a row's values."""
    from zoo.datasets import digits_arrays

    images, labels = digits_arrays("train")
    columns = columns or PIXELS + ["label"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for index in range(rows):
            values = dict(zip(PIXELS, np.round(images[index].ravel() * 16).astype(int).tolist()),
                          label=int(labels[index]))
            if edit:
                edit(index, values)
            writer.writerow([values.get(column, "") for column in columns])


# Quick checks: the configuration and arguments, refused before any component runs.

def test_every_pipeline_model_is_a_zoo_family_with_a_complete_task():
    """components.tasks maps each model the pipeline offers to a task folder holding every module
    create_pipeline and the command line look up, and each such model to a zoo family."""
    import importlib

    import zoo
    from components import tasks

    assert set(tasks.MODELS) <= set(zoo.models.FAMILIES)
    for model in tasks.MODELS:
        for dotted in ("preprocessing.preprocessing_fn", "trainer.run_fn"):
            module, _, name = tasks.dotted(model, dotted).rpartition(".")
            assert callable(getattr(importlib.import_module(module), name))
        assert callable(tasks.module(model, "data_checks").check)
        evaluation = tasks.module(model, "evaluation")
        assert callable(evaluation.eval_config) and callable(evaluation.why_not_blessed)
    with pytest.raises(ValueError, match="Unknown model 'resnet'; choose one of: odenet"):
        tasks.module("resnet", "evaluation")


def test_fine_tuning_has_its_own_learning_rate_and_a_frozen_body_first():
    scratch, fine_tuning = PipelineConfig(), PipelineConfig(base_model="/models/1")
    assert scratch.learning_rate == LEARNING_RATE and scratch.trainer_config()["frozen_body_epochs"] == 0
    assert fine_tuning.learning_rate == FINE_TUNING_LEARNING_RATE < LEARNING_RATE
    assert fine_tuning.trainer_config()["frozen_body_epochs"] == FROZEN_BODY_EPOCHS >= 1
    assert PipelineConfig(base_model="/models/1", learning_rate=1e-5).trainer_config()["learning_rate"] == 1e-5


def test_an_unblessed_run_says_which_check_failed():
    from components.tasks.classification.evaluation import why_not_blessed

    # A RunReport's fields (pipeline.local_runner loads TFX, which takes a minute here).
    report = SimpleNamespace(metrics={ACCURACY_METRIC: 0.8}, changes={ACCURACY_METRIC: -0.05},
                             failed_checks={"threshold", "baseline"})
    assert why_not_blessed(report, PipelineConfig(base_model="/models/1")) == (
        f"its eval accuracy 0.8000 is below the threshold {ACCURACY_THRESHOLD:g}, which --accuracy-threshold sets; "
        f"its eval accuracy 0.8000 is 0.0500 below the blessed baseline's 0.8500, more than the tolerance "
        f"{ACCURACY_TOLERANCE:g}")


@pytest.mark.parametrize("args,message", [
    (["--model", "resnet"], "Unknown model 'resnet'"),
    (["--data", "kaggle:x"], "Unknown data source 'kaggle:x'"),
    (["--data", "csv:/nonexistent"], "does not exist"),
    (["--base-model", "nope"], "neither a folder nor a preset"),
    (["--limit", "-5"], "--limit must be 0 (every example) or a positive number of examples per split, got -5."),
    (["--learning-rate", "0"], "--learning-rate must be positive, got 0.0."),
    (["--pixel-max", "16"], "--pixel-max applies to csv: and tfrecord: sources; digits examples already hold pixels"),
])
def test_bad_arguments_fail_before_any_component(tmp_path, args, message):
    code, _, stderr = odezoo_run(tmp_path, *args)
    assert code == 2 and message in stderr, stderr[-2000:]
    assert not (tmp_path / "metadata.sqlite").exists()


def _drop(column):
    return [c for c in PIXELS + ["label"] if c != column]


def _set(column, value, row=3):
    def edit(index, values):
        if index == row:
            values[column] = value
    return edit


@pytest.mark.parametrize("csv_args,args,message", [
    ({"columns": PIXELS}, [], "no 'label' column; found 64 columns: p0, p1, p2, p3, p4, ..., p59, p60, p61, p62, "
                              "p63. Expected: a header row naming the columns; a 'label' column of integer classes"),
    ({}, [], "pixel value 16 is above 1; pass --pixel-max with the value of a full-intensity pixel, which every pixel "
             "is divided by (16 for scikit-learn's raw digits, 255 for 8-bit images)."),
    ({}, ["--pixel-max", "10"], "pixel value 16 is above 10; --pixel-max 10 must be at least the largest pixel value."),
    ({"edit": _set("p5", -1)}, ["--pixel-max", "16"], "column 'p5', data row 4: pixel value -1 is negative"),
    ({"columns": _drop("p30")}, ["--pixel-max", "16"], "no column for pixel 30; the 63 pixel columns must be "
                                                       "numbered 0 to 62, one per pixel in row-major order."),
    ({"columns": _drop("p63")}, ["--pixel-max", "16"], "63 pixel columns do not make a square one-channel image"),
    ({"edit": _set("p7", "oops")}, ["--pixel-max", "16"], "column 'p7', data row 4: 'oops' is not a number."),
    ({"edit": _set("p9", "")}, ["--pixel-max", "16"], "column 'p9', data row 4: the value is missing."),
    ({"edit": _set("label", 12)}, ["--pixel-max", "16"],
     "column 'label', data row 4: label 12 is not an integer class from 0 to 9."),
    ({}, ["--pixel-max", "16", "--limit", "100"],
     "--limit applies to digits and tfds: sources; csv: data is read whole, so give a smaller file instead."),
])
def test_a_bad_csv_is_refused_before_any_component(tmp_path, csv_args, args, message):
    data = tmp_path / "digits.csv"
    write_digits_csv(data, 40, **csv_args)
    code, _, stderr = odezoo_run(tmp_path / "run", "--data", f"csv:{data}", *args)
    assert code == 2 and message in stderr, stderr[-2000:]
    assert not (tmp_path / "run" / "metadata.sqlite").exists()


def test_a_csv_folder_is_every_file_in_it(tmp_path):
    write_digits_csv(tmp_path / "a.csv", 20)
    write_digits_csv(tmp_path / "b.csv", 20, columns=PIXELS + ["label", "note"])
    code, _, stderr = odezoo_run(tmp_path / "run", "--data", f"csv:{tmp_path}", "--pixel-max", "16")
    assert code == 2 and "every CSV of a folder needs the same header" in stderr and "b.csv has 66 columns" in stderr
    assert not (tmp_path / "run" / "metadata.sqlite").exists()


def test_bad_tfrecord_and_tfds_sources_are_refused(tmp_path):
    # In this process, which has loaded TensorFlow already: the command line calls the same check
    # before any component runs, as the CSV tests above show.
    import tensorflow as tf

    from components.tasks.classification.data_checks import check_tfds, check_tfrecord
    from zoo.datasets import digits_arrays

    images, labels = digits_arrays("train")
    unlabeled = tmp_path / "unlabeled.tfrecord.gz"
    with tf.io.TFRecordWriter(str(unlabeled), options="GZIP") as writer:
        writer.write(tf.train.Example(features=tf.train.Features(feature={"image": tf.train.Feature(
            float_list=tf.train.FloatList(value=images[0].ravel()))})).SerializeToString())
    with pytest.raises(ValueError, match=r"the examples need an int64 feature 'label'; found: image \(float_list\)"):
        check_tfrecord(str(unlabeled))
    gzip_without_ending = tmp_path / "digits.tfrecord"
    write_tfrecord(gzip_without_ending, images[:5], labels[:5])
    with pytest.raises(ValueError, match=r"not a TFRecord file of tf.Examples, read as uncompressed \(GZIP files "
                                         r"need a .gz ending\)"):
        check_tfrecord(str(gzip_without_ending))
    with pytest.raises(ValueError, match=f"mnist is not prepared in {tmp_path}; odezoo does not download"):
        check_tfds(f"mnist@{tmp_path}")
    with pytest.raises(ValueError, match="tensorflow-datasets has no dataset 'tiny_digits'"):
        check_tfds(f"tiny_digits@{tmp_path}")


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


# End to end: the digits history in one pipeline root.

@pytest.fixture(scope="module")
def digits_root(tmp_path_factory):
    return tmp_path_factory.mktemp("digits")


@pytest.fixture(scope="module")
def scratch_run(digits_root):
    return odezoo_run(digits_root, "--limit", LIMIT, "--epochs", "1")


@pytest.fixture(scope="module")
def preset_run(digits_root, scratch_run):
    return odezoo_run(digits_root, "--limit", LIMIT, "--epochs", "1", "--base-model", "odenet_digits")


@pytest.fixture(scope="module")
def worse_run(digits_root, preset_run):
    # The first run's model (cached) with the absolute threshold off, so that the baseline alone decides.
    return odezoo_run(digits_root, "--limit", LIMIT, "--epochs", "1", "--accuracy-threshold", "0")


@pytest.fixture(scope="module")
def comparable_run(digits_root, worse_run, tmp_path_factory):
    # The same task from another source: digits as a TFRecord file, with a file beside it that is none.
    from zoo.datasets import digits_arrays

    images, labels = digits_arrays("train")
    data = tmp_path_factory.mktemp("tfrecord") / "digits.tfrecord.gz"
    write_tfrecord(data, images[:240], labels[:240])
    (data.parent / "README.txt").write_text("not a TFRecord: a file source reads its file alone\n")
    return odezoo_run(digits_root, "--data", f"tfrecord:{data}", "--epochs", "1", "--base-model",
                      str(latest_pushed(digits_root)))


@pytest.mark.slow
def test_a_short_run_from_scratch_below_the_threshold_says_which_flag_sets_it(digits_root, scratch_run):
    code, stdout, stderr = scratch_run
    assert code == 1, stderr[-3000:]
    states = component_states(stdout)
    assert all(states.get(name) == "COMPLETE" for name in COMPONENTS), states
    metrics = eval_metrics(stdout)
    assert metrics["example_count"] == int(LIMIT) and metrics[ACCURACY_METRIC] < ACCURACY_THRESHOLD
    assert not baseline_changes(stdout) and "blessed: False" in stdout  # nothing was blessed before
    assert (f"odezoo run: the Evaluator did not bless the model, so nothing was pushed: its eval accuracy "
            f"{metrics[ACCURACY_METRIC]:.4f} is below the threshold {ACCURACY_THRESHOLD:g}, which --accuracy-threshold "
            "sets (a --limit run from scratch trains a few steps; fine-tuning a preset, --base-model odenet_digits, "
            "passes it in one epoch).") in stderr
    assert serving_versions(digits_root) == []


@pytest.mark.slow
def test_fine_tuning_a_preset_keeps_its_accuracy_and_pushes_a_model_that_serves_the_contract(
        digits_root, preset_run, contract_examples):
    code, stdout, stderr = preset_run
    assert code == 0, stderr[-3000:]
    states = component_states(stdout)
    assert states["base_model_importer"] == "COMPLETE" and states["Trainer"] == "COMPLETE"
    for name in ["ZooExampleGen", *UPSTREAM]:
        assert states[name] == "CACHED", states
    import zoo

    images, labels = zoo.datasets.digits_arrays("eval")
    preset = zoo.ODENetClassifier.from_preset("odenet_digits")
    predictions = np.argmax(preset.predict(images[:int(LIMIT)], verbose=0), axis=-1)
    preset_accuracy = float(np.mean(predictions == labels[:int(LIMIT)]))
    metrics = eval_metrics(stdout)
    assert metrics[ACCURACY_METRIC] >= preset_accuracy  # one epoch of fine-tuning loses nothing
    assert not baseline_changes(stdout) and "blessed: True" in stdout  # the first run was not blessed

    store = metadata_store(digits_root)
    types = {t.id: t.name for t in store.get_artifact_types()}
    produced = {types[a.type_id] for a in store.get_artifacts()}
    assert {"Examples", "ExampleStatistics", "Schema", "ExampleAnomalies", "TransformGraph", "Model", "ModelRun",
            "ModelEvaluation", "ModelBlessing", "PushedModel"} <= produced
    assert len(serving_versions(digits_root)) == 1
    pushed = latest_pushed(digits_root)
    assert (pushed / "saved_model.pb").exists() and (pushed / "model.keras").exists()
    served = serve_without_odezoo(pushed, contract_examples)
    assert {"inputs": served["inputs"], "outputs": served["outputs"]} == CONTRACT
    assert served["total"] == int(LIMIT) and served["accuracy"] == pytest.approx(metrics[ACCURACY_METRIC], abs=1e-6)


@pytest.mark.slow
def test_a_model_worse_than_the_blessed_baseline_is_not_pushed(digits_root, scratch_run, preset_run, worse_run):
    code, stdout, stderr = worse_run
    assert code == 1
    states = component_states(stdout)
    for name in ["ZooExampleGen", *UPSTREAM, "Trainer"]:
        assert states[name] == "CACHED", states
    assert states["Evaluator"] == "COMPLETE" and "blessed: False" in stdout
    metrics, changes = eval_metrics(stdout), baseline_changes(stdout)
    first_accuracy = eval_metrics(scratch_run[1])[ACCURACY_METRIC]
    baseline_accuracy = eval_metrics(preset_run[1])[ACCURACY_METRIC]
    assert metrics == {"example_count": int(LIMIT), ACCURACY_METRIC: first_accuracy}  # the candidate's, not changes
    assert changes[ACCURACY_METRIC] == pytest.approx(first_accuracy - baseline_accuracy, abs=1e-4)
    assert changes[ACCURACY_METRIC] < -ACCURACY_TOLERANCE
    assert (f"the Evaluator did not bless the model, so nothing was pushed: its eval accuracy {first_accuracy:.4f} is "
            in stderr)
    assert f"below the blessed baseline's {baseline_accuracy:.4f}, more than the tolerance {ACCURACY_TOLERANCE:g}." \
        in stderr
    assert "below the threshold" not in stderr
    assert len(serving_versions(digits_root)) == 1


@pytest.mark.slow
def test_a_comparable_model_fine_tuned_on_a_tfrecord_file_is_pushed(digits_root, comparable_run, contract_examples):
    code, stdout, stderr = comparable_run
    assert code == 0, stderr[-3000:]
    states = component_states(stdout)
    assert states["ImportExampleGen"] == "COMPLETE" and states["base_model_importer"] == "COMPLETE"
    metrics, changes = eval_metrics(stdout), baseline_changes(stdout)
    assert changes[ACCURACY_METRIC] >= -ACCURACY_TOLERANCE and "blessed: True" in stdout
    versions = serving_versions(digits_root)
    assert len(versions) == 2
    pushed = digits_root / "serving" / versions[-1]
    eval_split = next((digits_root / "root" / "ImportExampleGen" / "examples").iterdir()) / "Split-eval" / "*"
    served = serve(pushed, eval_split)  # the Evaluator's examples: raw TFRecords hold the served layout
    assert served["total"] == metrics["example_count"] < 240
    assert served["accuracy"] == pytest.approx(metrics[ACCURACY_METRIC], abs=1e-6)  # the candidate's, not a change
    contract = serve(pushed, contract_examples)
    assert {"inputs": contract["inputs"], "outputs": contract["outputs"]} == CONTRACT
    assert contract["accuracy"] >= ACCURACY_THRESHOLD
    base = digits_root / "serving" / versions[0]
    assert any(a.uri == str(base) for a in metadata_store(digits_root).get_artifacts_by_type("Model"))


# End to end: the other sources, each fine-tuning the preset for one epoch at the default threshold.

@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    data = folder / "data"
    data.mkdir()
    write_digits_csv(data / "digits.csv", 240)  # raw integers 0..16
    write_digits_csv(data / "notes.csv", 5, columns=["label", "note"])  # beside it, another header
    root = folder / "run"
    code, stdout, stderr = odezoo_run(root, "--data", f"csv:{data / 'digits.csv'}", "--pixel-max", "16",
                                      "--epochs", "1", "--base-model", "odenet_digits")
    schema = next((root / "root" / "SchemaGen" / "schema").iterdir()) / "schema.pbtxt"
    return root, code, stdout, stderr, schema


@pytest.mark.slow
def test_a_csv_file_is_read_alone_scaled_and_its_model_serves_the_contract(csv_run, contract_examples):
    root, code, stdout, stderr, schema = csv_run
    assert code == 0, stderr[-3000:]
    assert component_states(stdout)["CsvExampleGen"] == "COMPLETE" and schema.exists()
    assert 0 < eval_metrics(stdout)["example_count"] < 240 and "blessed: True" in stdout
    served = serve(latest_pushed(root), contract_examples)
    assert {"inputs": served["inputs"], "outputs": served["outputs"]} == CONTRACT
    assert served["accuracy"] >= ACCURACY_THRESHOLD  # trained on 0..16, served pixels in [0, 1]


@pytest.mark.slow
def test_csv_values_that_drift_from_the_schema_stop_at_the_gate(csv_run, tmp_path):
    root, code, _, _, schema = csv_run
    assert code == 0
    before = serving_versions(root)
    data = tmp_path / "digits.csv"

    def halve_p7(index, values):
        values["p7"] = values["p7"] / 2 + 0.25  # floats in a column the schema learned as integers

    write_digits_csv(data, 240, edit=halve_p7)
    code, stdout, stderr = odezoo_run(root, "--data", f"csv:{data}", "--pixel-max", "16", "--epochs", "1",
                                      "--schema", str(schema))
    assert code == 1
    assert "ExampleValidator found anomalies" in stderr and "column 'p7'" in stderr
    states = component_states(stdout)
    assert states["ValidationGate"] == "FAILED" and "Trainer" not in states and "Pusher" not in states
    assert serving_versions(root) == before  # the previous pushed model is untouched


def prepare_tfds(data_dir, name, splits):
    """A tensorflow-datasets copy of ``name`` prepared in ``data_dir``, as `tfds build` leaves one:
    uint8 images and class labels, supervised as (image, label)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    folder = Path(data_dir) / name / "1.0.0"
    folder.mkdir(parents=True)
    features = tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(8, 8, 1)),
                                           "label": tfds.features.ClassLabel(num_classes=10)})
    for split, (images, labels) in splits.items():
        with tf.io.TFRecordWriter(str(folder / f"{name}-{split}.tfrecord-00000-of-00001")) as writer:
            for image, label in zip(images, labels):
                writer.write(features.serialize_example({"image": image, "label": label}))
    tfds.folder_dataset.write_metadata(data_dir=str(folder), features=features, supervised_keys=("image", "label"))


@pytest.mark.slow
def test_a_prepared_tfds_dataset_is_limited_and_its_model_serves_the_contract(tmp_path, contract_examples):
    from zoo.datasets import digits_arrays

    as_bytes = {split: (np.round(images * 255).astype(np.uint8), labels)
                for split, (images, labels) in (("train", digits_arrays("train")), ("test", digits_arrays("eval")))}
    prepare_tfds(tmp_path / "tfds", "tiny_digits", {split: (images[:150], labels[:150])
                                                    for split, (images, labels) in as_bytes.items()})
    code, stdout, stderr = odezoo_run(tmp_path / "run", "--data", f"tfds:tiny_digits@{tmp_path / 'tfds'}",
                                      "--limit", "100", "--epochs", "1", "--base-model", "odenet_digits")
    assert code == 0, stderr[-3000:]
    assert component_states(stdout)["ZooExampleGen"] == "COMPLETE" and "blessed: True" in stdout
    assert eval_metrics(stdout)["example_count"] == 100  # --limit applies to tfds: sources
    served = serve(latest_pushed(tmp_path / "run"), contract_examples)
    assert {"inputs": served["inputs"], "outputs": served["outputs"]} == CONTRACT
    assert served["accuracy"] >= ACCURACY_THRESHOLD

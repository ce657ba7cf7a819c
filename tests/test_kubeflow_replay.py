"""The local replay of a tiny compiled fine-tuning pipeline: every task through TFX's Kubeflow V2
entrypoint, the base model through the Importer, ending with a model the Evaluator blessed at the
default threshold, pushed, that loads and scores."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.tasks.classification import THRESHOLD as ACCURACY_THRESHOLD

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

_SCORE = """
import json, sys
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
records = tf.data.TFRecordDataset(tf.io.gfile.glob(sys.argv[2]), compression_type="GZIP")
batch = next(iter(records.batch(1000)))
labels = tf.io.parse_example(batch, {"label": tf.io.FixedLenFeature([], tf.int64)})["label"]
classes = tf.cast(serve(examples=batch)["classes"], tf.int64)
print(json.dumps({"accuracy": float(tf.reduce_mean(tf.cast(classes == labels, tf.float32))), "n": int(batch.shape[0])}))
"""


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a compile and ten tasks, each in its own process
def test_replay_of_a_compiled_fine_tuning_pipeline_pushes_a_model_that_scores(tmp_path):
    import zoo

    base = tmp_path / "base"
    base.mkdir()
    zoo.ODENetClassifier.from_preset("odenet_digits").save(base / "model.keras")
    package = tmp_path / "pipeline.yaml"
    compiled = subprocess.run([sys.executable, "-m", "pipeline.cli", "kubeflow", "compile", "--pipeline-root",
                               "gs://bucket/odezoo", "--epochs", "1", "--limit", "300", "--base-model", str(base),
                               "--accuracy-threshold", str(ACCURACY_THRESHOLD), "-o", str(package)],
                              capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600)
    assert compiled.returncode == 0, compiled.stderr[-2000:]
    spec = next(yaml.safe_load_all(package.read_text()))
    assert "base_model_importer" in spec["root"]["dag"]["tasks"]
    replayed = subprocess.run([sys.executable, "-m", "pipeline.cli", "kubeflow", "replay", str(package), "--root",
                               str(tmp_path / "replay")], capture_output=True, text=True, cwd=ROOT, env=ENV,
                              timeout=1500)
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    lines = replayed.stdout.splitlines()
    assert {line.split()[0] for line in lines if line and not line.startswith(("pushed", "whole", "replay"))} == \
        set(spec["root"]["dag"]["tasks"])
    pushed = lines[-1].split("pushed: ")[1]
    assert pushed.startswith(str(tmp_path / "replay" / "serving"))
    blessing = json.loads((tmp_path / "replay" / "Evaluator" / "executor_output.json").read_text())
    assert blessing["artifacts"]["blessing"]["artifacts"][0]["metadata"]["blessed"] == 1
    score = subprocess.run([sys.executable, "-c", _SCORE, pushed,
                            str(tmp_path / "replay" / "ZooExampleGen" / "examples" / "Split-eval" / "*")],
                           capture_output=True, text=True, timeout=300)
    assert score.returncode == 0, score.stderr[-2000:]
    result = json.loads(score.stdout.strip().splitlines()[-1])
    assert result["n"] == 300 and result["accuracy"] >= ACCURACY_THRESHOLD

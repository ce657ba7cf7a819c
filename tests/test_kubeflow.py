"""The Kubeflow compilation: the YAML parsed with KFP's own protos, and bad input."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

ROOT = Path(__file__).resolve().parents[1]
TASKS = {"ZooExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "ValidationGate", "Transform",
         "Trainer", "Evaluator", "Pusher"}


def odezoo(*args):
    completed = subprocess.run([sys.executable, "-m", "pipeline.cli", "kubeflow", *args], capture_output=True,
                               text=True, cwd=ROOT, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return completed.returncode, completed.stdout, completed.stderr


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    output = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    code, stdout, stderr = odezoo("compile", "--pipeline-root", "gs://bucket/odezoo", "--gpus", "2",
                                  "--gpu-type", "nvidia.com/gpu", "--image", "registry.example/odezoo:0.1.0",
                                  "--trainer-image", "registry.example/odezoo:0.1.0-gpu",
                                  "--node-selector", "cloud.google.com/gke-accelerator=nvidia-l4",
                                  "--toleration", "nvidia.com/gpu=present:NoSchedule", "-o", str(output))
    assert code == 0, stderr[-3000:]
    documents = list(yaml.safe_load_all(output.read_text()))
    spec = json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())
    platform = json_format.ParseDict(documents[1], pipeline_spec_pb2.PlatformSpec())
    return documents, spec, platform


def test_task_graph_and_no_resolver(compiled):
    documents, spec, _ = compiled
    tasks = spec.root.dag.tasks
    assert set(tasks) == TASKS
    assert set(tasks["Trainer"].dependent_tasks) >= {"Transform", "SchemaGen"}
    assert "ValidationGate" in tasks["Transform"].dependent_tasks
    assert set(tasks["Pusher"].dependent_tasks) >= {"Trainer", "Evaluator"}
    text = json.dumps(documents[0]).lower()
    assert "resolver" not in text


def test_images_resources_and_placement(compiled):
    _, spec, platform = compiled
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    trainer = executors["Trainer_executor"]["container"]
    assert trainer["image"] == "registry.example/odezoo:0.1.0-gpu"
    accelerator = trainer["resources"]["accelerator"]
    assert accelerator["type"] == accelerator["resourceType"] == "nvidia.com/gpu"
    assert accelerator["count"] == accelerator["resourceCount"] == "2"
    assert trainer["resources"]["resourceCpuLimit"] == "4" and trainer["resources"]["resourceMemoryLimit"] == "16G"
    for name, executor in executors.items():
        if name != "Trainer_executor":
            assert executor["container"]["image"] == "registry.example/odezoo:0.1.0"
            assert "accelerator" not in executor["container"].get("resources", {})
            assert executor["container"]["command"][-1] == "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
    placement = json_format.MessageToDict(platform)["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert placement == {"Trainer_executor": {
        "nodeSelector": {"labels": {"cloud.google.com/gke-accelerator": "nvidia-l4"}},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}]}}


def test_module_code_is_dotted_paths_importable_from_the_package(compiled):
    documents, _, _ = compiled
    text = json.dumps(documents[0])
    for dotted in ("components.tasks.classification.trainer.run_fn",
                   "components.tasks.classification.preprocessing.preprocessing_fn"):
        assert dotted in text
        module, _, name = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))
    assert "module_file" not in text and "module_path" not in text  # nothing to upload at compile time


def test_a_series_model_compiles_with_the_forecasting_task(tmp_path):
    output = tmp_path / "latent_ode.yaml"
    code, _, stderr = odezoo("compile", "--pipeline-root", "gs://bucket/odezoo", "--model", "latent_ode",
                             "--data", "co2", "--epochs", "4", "-o", str(output))
    assert code == 0, stderr[-3000:]
    document = next(yaml.safe_load_all(output.read_text()))
    text = json.dumps(document)
    assert set(document["root"]["dag"]["tasks"]) == TASKS
    for dotted in ("components.tasks.forecasting.trainer.run_fn",
                   "components.tasks.forecasting.preprocessing.preprocessing_fn"):
        assert dotted in text
    parameters = document["root"]["dag"]["tasks"]["ZooExampleGen"]["inputs"]["parameters"]
    assert {name: value["runtimeValue"]["constantValue"]["stringValue"] for name, value in parameters.items()
            if name in ("source", "task")} == {"source": "co2", "task": "forecasting"}
    assert "upper_bound" in text and "serve_transformed" in text  # lower is better, on the eval signature


@pytest.mark.parametrize("args,message", [
    (["--gpus", "-1"], "--gpus must be a non-negative integer"),
    (["--model", "resnet"], "Unknown model 'resnet'"),
    (["--limit", "-5"], "--limit must be 0 (every example) or a positive number of examples per split, got -5."),
    (["--learning-rate", "-1"], "--learning-rate must be positive, got -1.0."),
    (["-o", "/proc/odezoo/pipeline.yaml"], "cannot write into"),
    (["--toleration", "gpu"], "write key=value:Effect"),
])
def test_bad_compile_arguments(args, message):
    base = ["compile", "--pipeline-root", "gs://bucket/odezoo"]
    code, _, stderr = odezoo(*base, *args)
    assert code == 2 and message in stderr


def test_compile_with_a_base_model_fine_tunes_it_from_an_importer(tmp_path):
    from components.tasks.classification import FINE_TUNING_LEARNING_RATE, FROZEN_BODY_EPOCHS

    base = "gs://bucket/odezoo/serving/1796052572"
    output = tmp_path / "finetune.yaml"
    code, stdout, stderr = odezoo("compile", "--pipeline-root", "gs://bucket/odezoo", "--base-model", base,
                                  "--epochs", "3", "-o", str(output))
    assert code == 0, stderr[-3000:]
    document = next(yaml.safe_load_all(output.read_text()))
    json_format.ParseDict(document, pipeline_spec_pb2.PipelineSpec())  # a valid PipelineSpec
    tasks = document["root"]["dag"]["tasks"]
    assert set(tasks) == TASKS | {"base_model_importer"} and "base_model_importer" in stdout
    importer = document["deploymentSpec"]["executors"][
        document["components"][tasks["base_model_importer"]["componentRef"]["name"]]["executorLabel"]]["importer"]
    assert importer["artifactUri"]["constantValue"]["stringValue"] == base
    assert "tfx.Model" in importer["typeSchema"]["instanceSchema"]
    trainer = tasks["Trainer"]
    assert trainer["inputs"]["artifacts"]["base_model"]["taskOutputArtifact"] == {
        "outputArtifactKey": "result", "producerTask": "base_model_importer"}
    assert "base_model_importer" in trainer["dependentTasks"]
    custom_config = json.loads(trainer["inputs"]["parameters"]["custom_config"]["runtimeValue"]["constantValue"]
                               ["stringValue"])
    assert custom_config["learning_rate"] == FINE_TUNING_LEARNING_RATE and custom_config["epochs"] == 3
    assert custom_config["frozen_body_epochs"] == FROZEN_BODY_EPOCHS


def test_replay_of_a_failing_task_fails_naming_it(compiled, tmp_path):
    documents, _, _ = compiled
    spec = json.loads(json.dumps(documents[0]))
    # A source the task cannot read at run time (the command line checks only what it can see).
    spec["root"]["dag"]["tasks"]["ZooExampleGen"]["inputs"]["parameters"]["source"] = {
        "runtimeValue": {"constantValue": {"stringValue": "tfds:no_such_dataset"}}}
    package = tmp_path / "failing.yaml"
    package.write_text(yaml.safe_dump(spec, sort_keys=False))
    code, stdout, stderr = odezoo("replay", str(package), "--root", str(tmp_path / "replay"))
    assert code != 0
    assert "odezoo kubeflow replay: task ZooExampleGen failed (exit 1)" in stderr, stderr[-3000:]
    assert "no_such_dataset" in stderr  # the task's own error
    assert "replay: StatisticsGen" not in stdout and "pushed:" not in stdout


def test_pipeline_root_needs_a_scheme(tmp_path):
    code, _, stderr = odezoo("compile", "--pipeline-root", "/data/odezoo", "-o", str(tmp_path / "p.yaml"))
    assert code == 2 and "needs a scheme" in stderr


def test_submit_to_an_unreachable_host_fails_clearly(tmp_path):
    package = tmp_path / "p.yaml"
    package.write_text("pipelineInfo: {name: x}\n")
    code, _, stderr = odezoo("submit", "--host", "http://127.0.0.1:9", str(package))
    assert code == 2 and "could not be reached or refused" in stderr

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
    for dotted in ("components.trainer.run_fn", "components.preprocessing.preprocessing_fn"):
        assert dotted in text
        module, _, name = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))
    assert "module_file" not in text and "module_path" not in text  # nothing to upload at compile time


@pytest.mark.parametrize("args,message", [
    (["--gpus", "-1"], "--gpus must be a non-negative integer"),
    (["--model", "resnet"], "Unknown model 'resnet'"),
    (["-o", "/proc/odezoo/pipeline.yaml"], "cannot write into"),
    (["--toleration", "gpu"], "write key=value:Effect"),
])
def test_bad_compile_arguments(args, message):
    base = ["compile", "--pipeline-root", "gs://bucket/odezoo"]
    code, _, stderr = odezoo(*base, *args)
    assert code == 2 and message in stderr


def test_pipeline_root_needs_a_scheme(tmp_path):
    code, _, stderr = odezoo("compile", "--pipeline-root", "/data/odezoo", "-o", str(tmp_path / "p.yaml"))
    assert code == 2 and "needs a scheme" in stderr


def test_submit_to_an_unreachable_host_fails_clearly(tmp_path):
    package = tmp_path / "p.yaml"
    package.write_text("pipelineInfo: {name: x}\n")
    code, _, stderr = odezoo("submit", "--host", "http://127.0.0.1:9", str(package))
    assert code == 2 and "could not be reached or refused" in stderr

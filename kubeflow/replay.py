"""Replays a compiled pipeline on this machine, task by task, the way the cluster would run it.

Each task of the PipelineSpec runs in DAG order through its container's own command: TFX's Kubeflow
V2 executor entrypoint (``python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor``)
with ``{{$}}`` replaced by an ExecutorInput built as the KFP launcher builds it: input artifacts are
the producers' output artifacts (with the metadata their executors wrote), parameters are the task's
constants, output artifacts get URIs under the replay root, and ``outputFile`` receives the executor's
ExecutorOutput. Importer tasks become their artifact directly, as KFP's importer does. Parameters
that point under the spec's pipeline root (such as the Pusher's serving folder) are mapped to
``--root`` (the spec's ``defaultPipelineRoot`` is replaced wherever it appears), the one liberty the replay takes; the container image itself is not used: the tasks run
in this machine's environment.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml


def load(package):
    documents = list(yaml.safe_load_all(Path(package).read_text()))
    if not documents or "root" not in documents[0]:
        raise ValueError(f"{package}: not a compiled KFP pipeline (no PipelineSpec root).")
    return documents[0]


def task_order(spec):
    """The tasks in an order that runs every producer before its consumers."""
    tasks = spec["root"]["dag"]["tasks"]
    order, done = [], set()
    while len(order) < len(tasks):
        ready = sorted(n for n, t in tasks.items() if n not in done and set(t.get("dependentTasks", [])) <= done)
        if not ready:
            raise ValueError("The pipeline's task graph has a cycle.")
        order += ready
        done.update(ready)
    return order


def _constant(value, pipeline_root, root):
    if "stringValue" in value and pipeline_root and pipeline_root in value["stringValue"]:
        return {"stringValue": value["stringValue"].replace(pipeline_root, root)}
    return value


def replay(package, root, log=print):
    """Runs every task of ``package`` under ``root``; returns [(task, seconds)] and the pushed path."""
    spec = load(package)
    root = str(Path(root).resolve())
    pipeline_root = spec.get("defaultPipelineRoot", "")
    tasks = spec["root"]["dag"]["tasks"]
    produced, timings, pushed = {}, [], None
    for name in task_order(spec):
        task = tasks[name]
        component = spec["components"][task["componentRef"]["name"]]
        executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
        started = time.perf_counter()
        if "importer" in executor:
            importer = executor["importer"]
            uri = importer["artifactUri"]["constantValue"]["stringValue"]
            produced[(name, "result")] = {"name": f"{name}-result", "type": importer["typeSchema"], "uri": uri,
                                          "metadata": importer.get("metadata", {})}
            timings.append((name, time.perf_counter() - started))
            continue
        inputs = {"artifacts": {}, "parameters": {}}
        for key, reference in task.get("inputs", {}).get("artifacts", {}).items():
            source = reference["taskOutputArtifact"]
            inputs["artifacts"][key] = {"artifacts": [produced[(source["producerTask"], source["outputArtifactKey"])]]}
        for key, parameter in task.get("inputs", {}).get("parameters", {}).items():
            inputs["parameters"][key] = _constant(parameter["runtimeValue"]["constantValue"], pipeline_root, root)
        task_root = Path(root) / name
        outputs = {"artifacts": {}, "outputFile": str(task_root / "executor_output.json")}
        for key, definition in component.get("outputDefinitions", {}).get("artifacts", {}).items():
            outputs["artifacts"][key] = {"artifacts": [{"name": f"{name}-{key}", "type": definition["artifactType"],
                                                        "uri": str(task_root / key), "metadata": {}}]}
        executor_input = json.dumps({"inputs": inputs, "outputs": outputs})
        container = executor["container"]
        command = [sys.executable if part == "python" else part for part in container["command"]]
        command += [executor_input if argument == "{{$}}" else argument for argument in container.get("args", [])]
        log(f"replay: {name} ...")
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            task_root.mkdir(parents=True, exist_ok=True)
            log_file = task_root / "stderr.log"
            log_file.write_text(completed.stderr)
            tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"task {name} failed (exit {completed.returncode}); its log is {log_file}, "
                               f"ending:\n{tail}")
        result = json.loads(Path(outputs["outputFile"]).read_text())
        for key, value in outputs["artifacts"].items():
            artifact = dict(value["artifacts"][0])
            written = result.get("artifacts", {}).get(key, {}).get("artifacts", [{}])[0]
            artifact["metadata"] = {**artifact["metadata"], **written.get("metadata", {})}
            produced[(name, key)] = artifact
            if artifact["metadata"].get("pushed") and artifact["metadata"].get("pushed_destination"):
                pushed = artifact["metadata"]["pushed_destination"]
        timings.append((name, time.perf_counter() - started))
    return timings, pushed, produced

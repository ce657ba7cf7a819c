"""Compiles ``create_pipeline`` for Kubeflow Pipelines (KFP v2) with TFX's KubeflowV2DagRunner.

The output is a YAML file that ``kfp.Client().create_run_from_pipeline_package`` accepts: the bare
PipelineSpec, then (with node selectors or tolerations) a kfp-kubernetes PlatformSpec document. The
Trainer gets the GPU request (a ResourceSpec with the accelerator type and count, old and new fields
both set), CPU and memory limits, its own image, and the node selectors and tolerations; every other
task runs the CPU image. Open-source KFP cannot run TFX Resolvers, so the Kubeflow graph has no
latest-blessed-model baseline (the Evaluator checks the absolute threshold only); a base model for
fine-tuning enters through an Importer, which KFP runs.
"""

import dataclasses
import os
from urllib.parse import urlparse

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx import v1 as tfx

from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline

SCHEMES = ("gs", "s3", "minio", "http", "https", "file")
TRAINER = "Trainer"


@dataclasses.dataclass(frozen=True)
class KubeflowOptions:
    """Where and on what the compiled pipeline runs."""

    pipeline_root: str
    image: str = "odezoo:0.1.0"
    trainer_image: str | None = None
    gpus: int = 0
    gpu_type: str = "nvidia.com/gpu"
    trainer_cpu_limit: float = 4.0
    trainer_memory_limit_gb: float = 16.0
    node_selectors: dict = dataclasses.field(default_factory=dict)
    tolerations: tuple = ()

    def __post_init__(self):
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise ValueError(f"--gpus must be a non-negative integer, got {self.gpus!r}.")
        scheme = urlparse(self.pipeline_root).scheme
        if scheme not in SCHEMES:
            raise ValueError(f"--pipeline-root {self.pipeline_root!r} needs a scheme the cluster can reach "
                             f"({', '.join(s + '://' for s in SCHEMES)}), e.g. gs://bucket/odezoo or s3://bucket/odezoo.")
        if self.trainer_cpu_limit <= 0 or self.trainer_memory_limit_gb <= 0:
            raise ValueError("Trainer CPU and memory limits must be positive.")
        for toleration in self.tolerations:
            if "key" not in toleration:
                raise ValueError(f"A toleration needs a key: {toleration!r}.")


def parse_toleration(text):
    """``key=value:Effect`` or ``key:Effect`` (operator Equal or Exists) into a kfp-kubernetes toleration."""
    if ":" not in text:
        raise ValueError(f"--toleration {text!r}: write key=value:Effect or key:Effect "
                         "(Effect: NoSchedule, PreferNoSchedule or NoExecute).")
    head, effect = text.rsplit(":", 1)
    if effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ValueError(f"--toleration {text!r}: unknown effect {effect!r}.")
    key, _, value = head.partition("=")
    toleration = {"key": key, "operator": "Equal" if value else "Exists", "effect": effect}
    if value:
        toleration["value"] = value
    return toleration


def parse_node_selector(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--node-selector {text!r}: write key=value.")
    return key, value


def trainer_resources(options):
    spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec(
        cpu_limit=options.trainer_cpu_limit, memory_limit=options.trainer_memory_limit_gb,
        resource_cpu_limit=f"{options.trainer_cpu_limit:g}", resource_memory_limit=f"{options.trainer_memory_limit_gb:g}G")
    if options.gpus:
        spec.accelerator.type = options.gpu_type
        spec.accelerator.count = options.gpus
        spec.accelerator.resource_type = options.gpu_type
        spec.accelerator.resource_count = str(options.gpus)
    return spec


def compile_pipeline(config: PipelineConfig, options: KubeflowOptions, output):
    """Writes the pipeline YAML to ``output``; returns the PipelineSpec as a dict."""
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ValueError(f"-o {output!r}: cannot write into {folder!r}.")
    root = options.pipeline_root.rstrip("/")
    config = dataclasses.replace(config, pipeline_root=root, serving_dir=f"{root}/serving")
    pipeline = create_pipeline(config, with_baseline=False,
                               beam_pipeline_args=["--direct_running_mode=multi_processing",
                                                   "--direct_num_workers=0"])
    images = {}
    for component in pipeline.components:
        images[component.id] = options.image
    images[TRAINER] = options.trainer_image or options.image
    trainer = next(c for c in pipeline.components if c.id == TRAINER)
    trainer.with_platform_config(trainer_resources(options))
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=images,
                                                                       display_name=config.name),
        output_dir=folder, output_filename=os.path.basename(output))
    job = runner.run(pipeline, write_out=False)
    spec = job["pipelineSpec"]
    documents = [spec]
    platform = platform_spec(spec, options)
    if platform:
        documents.append(platform)
    with open(output, "w") as handle:
        yaml.safe_dump_all(documents, handle, sort_keys=False)
    return spec


def executor_label(spec, task):
    component = spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]
    return spec["components"][component]["executorLabel"]


def platform_spec(spec, options):
    """The kfp-kubernetes PlatformSpec placing the Trainer: node selectors and tolerations."""
    executor = {}
    if options.node_selectors:
        executor["nodeSelector"] = {"labels": dict(options.node_selectors)}
    if options.tolerations:
        executor["tolerations"] = [dict(t) for t in options.tolerations]
    if not executor:
        return None
    return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {executor_label(spec, TRAINER): executor}}}}}

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

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx import v1 as tfx

from kubeflow.options import TRAINER, KubeflowOptions, check_output
from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline

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
    folder = check_output(output)
    root = options.pipeline_root.rstrip("/")
    config = dataclasses.replace(config, pipeline_root=root, serving_dir=f"{root}/serving")
    pipeline = create_pipeline(config, with_baseline=False)  # Beam in the task's process, as locally
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
    spec["defaultPipelineRoot"] = root  # KFP's default for runs that do not name one
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

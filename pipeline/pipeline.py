"""``create_pipeline``: the TFX graph every runner shares (local and Kubeflow).

ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform -> Trainer -> Evaluator
(baseline: the latest blessed model, through a Resolver, when ``with_baseline``) -> Pusher.
A base model for fine-tuning enters through an Importer. The model's task (``components.tasks``)
gives the module code of Transform and the Trainer and the Evaluator's config; the Evaluator reads
Transform's examples, the layout the served model takes whatever the source.
"""

import json

from tfx import v1 as tfx

from components import tasks
from components.example_gen import ZooExampleGen
from components.sources import input_base_and_pattern
from components.validation_gate import ValidationGate

FILE_EXAMPLE_GENS = {"csv": tfx.components.CsvExampleGen, "tfrecord": tfx.components.ImportExampleGen}


def example_gen(config):
    kind, _, path = config.data.partition(":")
    if kind not in tasks.settings(config.model).ZOO_SOURCES:  # an embedded name is its own kind
        input_base, pattern = input_base_and_pattern(path)
        return FILE_EXAMPLE_GENS[kind](input_base=input_base, input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern=pattern)]))
    return ZooExampleGen(source=config.data, task=tasks.task_name(config.model), limit=config.example_limit,
                         options=json.dumps(config.task_options(), sort_keys=True))


def create_pipeline(config, with_baseline=True, beam_pipeline_args=None, metadata_connection_config=None):
    """The pipeline for ``config`` (a PipelineConfig). ``with_baseline`` adds the Resolver of the
    latest blessed model (runners that cannot run Resolvers leave it out)."""
    examples = example_gen(config)
    statistics = tfx.components.StatisticsGen(examples=examples.outputs["examples"])
    if config.schema_path:  # validate against a schema learned from an earlier, good run
        schema = tfx.components.ImportSchemaGen(schema_file=config.schema_path)
    else:
        schema = tfx.components.SchemaGen(statistics=statistics.outputs["statistics"], infer_feature_shape=True)
    validator = tfx.components.ExampleValidator(statistics=statistics.outputs["statistics"],
                                                schema=schema.outputs["schema"])
    gate = ValidationGate(anomalies=validator.outputs["anomalies"])
    transform = tfx.components.Transform(examples=examples.outputs["examples"], schema=schema.outputs["schema"],
                                         preprocessing_fn=tasks.dotted(config.model, "preprocessing.preprocessing_fn"),
                                         custom_config=config.transform_config())
    transform.add_upstream_node(gate)
    components = [examples, statistics, schema, validator, gate, transform]
    trainer_inputs = {}
    if config.base_model:
        importer = tfx.dsl.Importer(source_uri=config.base_model, artifact_type=tfx.types.standard_artifacts.Model,
                                    reimport=False).with_id("base_model_importer")
        components.append(importer)
        trainer_inputs["base_model"] = importer.outputs["result"]
    trainer = tfx.components.Trainer(
        run_fn=tasks.dotted(config.model, "trainer.run_fn"), examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"], schema=schema.outputs["schema"],
        train_args=tfx.proto.TrainArgs(), eval_args=tfx.proto.EvalArgs(),
        custom_config=config.trainer_config(), **trainer_inputs)
    components.append(trainer)
    evaluator_inputs = {}
    if with_baseline:
        resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model_resolver")
        components.append(resolver)
        evaluator_inputs["baseline_model"] = resolver.outputs["model"]
    evaluation = tasks.module(config.model, "evaluation")
    evaluator = tfx.components.Evaluator(examples=transform.outputs["transformed_examples"],
                                         model=trainer.outputs["model"],
                                         eval_config=evaluation.eval_config(config, with_baseline),
                                         **evaluator_inputs)
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_dir)))
    components += [evaluator, pusher]
    return tfx.dsl.Pipeline(pipeline_name=config.name, pipeline_root=config.pipeline_root, components=components,
                            enable_cache=True, metadata_connection_config=metadata_connection_config,
                            beam_pipeline_args=beam_pipeline_args or ["--direct_running_mode=in_memory",
                                                                      "--direct_num_workers=1"])

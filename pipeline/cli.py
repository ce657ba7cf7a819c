"""The `odezoo` command line."""

import argparse
import importlib.metadata
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def add_pipeline_options(parser, base_model_help):
    """The options of the pipeline's config (``PipelineConfig.from_args``), shared by ``odezoo run``
    and ``odezoo kubeflow compile``."""
    from components.tasks import MODELS, classification, forecasting  # light: no TensorFlow

    parser.add_argument("--model", default="odenet", help=f"the zoo model to train: {' | '.join(MODELS)} (default: odenet)")
    parser.add_argument("--data", default=None,
                        help="odenet: digits (embedded, default) | tfds:NAME[@DATA_DIR] | csv:PATH | tfrecord:PATH; "
                             "latent_ode and ode_rnn: spirals (default) | periodic | co2 (embedded) | csv:PATH | "
                             "tfrecord:PATH")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the task's, "
                        f"odenet {classification.EPOCHS}, latent_ode and ode_rnn {forecasting.EPOCHS})")
    parser.add_argument("--base-model", default=None, help=base_model_help)
    parser.add_argument("--limit", type=int, default=0,
                        help="at most this many examples per split, for embedded and tfds: sources (0: all)")
    parser.add_argument("--pixel-max", type=float, default=1.0,
                        help="csv: and tfrecord: sources: the value of a full-intensity pixel, which every pixel is "
                             "divided by (16 for scikit-learn's raw digits, 255 for 8-bit images; default 1)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="Adam's learning rate (default: the task's from scratch, "
                             f"odenet {classification.LEARNING_RATE:g}, latent_ode and ode_rnn "
                             f"{forecasting.LEARNING_RATE:g}; ten times lower with --base-model)")
    parser.add_argument("--horizon", type=int, default=None,
                        help="csv: series (latent_ode, ode_rnn): the points at the end of each series held out and "
                             f"forecast (default {forecasting.HORIZON})")
    parser.add_argument(classification.THRESHOLD_OPTION, type=float, default=None,
                        help=f"odenet: the eval accuracy a model needs to be pushed (default: {classification.THRESHOLD:g})")
    parser.add_argument(forecasting.THRESHOLD_OPTION, type=float, default=None,
                        help=f"latent_ode, ode_rnn: the largest eval forecast MSE, in units of the training values' "
                             f"variance, a model may have to be pushed (default: {forecasting.THRESHOLD:g})")


def build_parser():
    __version__ = importlib.metadata.version("odezoo")  # importing zoo would load TensorFlow
    parser = argparse.ArgumentParser(prog="odezoo", description="Neural ODEs for TensorFlow and Keras 3.")
    parser.add_argument("--version", action="version", version=f"odezoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("doctor", help="print the versions odezoo runs on and check that they load together")
    run = commands.add_parser("run", help="run the TFX pipeline locally (LocalDagRunner, SQLite ML Metadata)")
    add_pipeline_options(run, "fine-tune from a pushed model's folder or a preset name (see zoo.presets.list())")
    run.add_argument("--pipeline-root", default="pipeline_output",
                     help="folder for the run's artifacts, ML Metadata and pushed models (default: pipeline_output)")
    run.add_argument("--schema", default=None, help="validate the data against this schema.pbtxt (from a good run)")
    kubeflow = commands.add_parser("kubeflow", help="compile the pipeline for Kubeflow Pipelines, or submit it")
    actions = kubeflow.add_subparsers(dest="action", metavar="ACTION")
    compile_ = actions.add_parser("compile", help="write the KFP v2 pipeline YAML")
    add_pipeline_options(compile_, "a pushed model's URI to fine-tune from")
    compile_.add_argument("--gpus", type=int, default=0, help="GPUs for the Trainer (default 0)")
    compile_.add_argument("--gpu-type", default="nvidia.com/gpu")
    compile_.add_argument("--image", default="odezoo:0.1.0", help="the image of every task but the Trainer")
    compile_.add_argument("--trainer-image", default=None, help="the Trainer's image (default: --image)")
    compile_.add_argument("--pipeline-root", required=True, help="gs://... or s3://... the cluster can write")
    compile_.add_argument("--node-selector", action="append", default=[], help="key=value for the Trainer's node")
    compile_.add_argument("--toleration", action="append", default=[], help="key=value:Effect for the Trainer")
    compile_.add_argument("-o", "--output", default="pipeline.yaml")
    submit = actions.add_parser("submit", help="create a run from a compiled pipeline")
    submit.add_argument("--host", required=True, help="the Kubeflow Pipelines API endpoint")
    submit.add_argument("--experiment", default=None)
    submit.add_argument("package")
    replay = actions.add_parser("replay", help="run every task of a compiled pipeline here, as the cluster would")
    replay.add_argument("package")
    replay.add_argument("--root", required=True, help="local folder for the replay's artifacts")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from pipeline import doctor

        return doctor.main()
    if args.command == "run":
        from pipeline import run_command

        return run_command.main(args)
    if args.command == "kubeflow" and args.action:
        from kubeflow import command

        return command.main(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""``odezoo run``: build the config from the command line, run the local pipeline, print a summary,
and exit non-zero when the run failed or pushed nothing (saying which)."""

import os
import sys
from pathlib import Path

from components import tasks  # light: no TensorFlow


def config_from_args(args):
    from pipeline.config import PipelineConfig

    root = Path(args.pipeline_root).resolve()
    return PipelineConfig.from_args(args, pipeline_root=str(root / "root"), metadata_path=str(root / "metadata.sqlite"),
                                    serving_dir=str(root / "serving"), schema_path=args.schema,
                                    base_model=resolve_base_model(args.base_model, root))


def resolve_base_model(base, root):
    """A pushed model's folder as is; a preset name becomes a folder with its ``model.keras``."""
    from components.tasks import KERAS_FILE

    if base is None:
        return None
    if os.path.isdir(base):
        if not os.path.exists(os.path.join(base, KERAS_FILE)):
            raise ValueError(f"--base-model {base!r} has no {KERAS_FILE}; give a folder odezoo pushed or a preset.")
        return str(Path(base).resolve())
    import zoo

    if base not in zoo.presets.list():
        raise ValueError(f"--base-model {base!r} is neither a folder nor a preset ({', '.join(zoo.presets.list())}).")
    folder = root / "base_models" / base
    if not (folder / KERAS_FILE).exists():
        folder.mkdir(parents=True, exist_ok=True)
        zoo.models.from_preset(base).save(folder / KERAS_FILE)
    return str(folder)


def main(args):
    try:
        config = config_from_args(args)
        tasks.module(config.model, "data_checks").check(config)
    except ValueError as error:
        print(f"odezoo run: {error}", file=sys.stderr)
        return 2
    from pipeline import local_runner

    report = local_runner.run(config)
    print(summary(report))
    if report.error:
        print(f"odezoo run: the run failed: {report.error}", file=sys.stderr)
        return 1
    if not report.blessed:
        print("odezoo run: the Evaluator did not bless the model, so nothing was pushed: "
              f"{tasks.module(config.model, 'evaluation').why_not_blessed(report, config)}.", file=sys.stderr)
        return 1
    if not report.pushed:
        print("odezoo run: the Pusher pushed nothing.", file=sys.stderr)
        return 1
    return 0


def _value(name, value, signed=False):
    sign = "+" if signed else ""
    return f"{value:{sign}.0f}" if name.endswith("count") else f"{value:{sign}.4f}"


def summary(report):
    lines = ["", f"{'component':<34} {'state':<10} {'seconds':>8}"]
    lines += [f"{name:<34} {state:<10} {seconds:8.1f}" for name, state, seconds in report.components]
    lines.append(f"{'whole run':<34} {'':<10} {report.seconds:8.1f}")
    if report.metrics:
        lines.append("eval metrics: " + ", ".join(f"{k}={_value(k, v)}" for k, v in sorted(report.metrics.items())))
    if report.changes:
        lines.append("against the blessed baseline: " + ", ".join(
            f"{k} {_value(k, v, signed=True)}" for k, v in sorted(report.changes.items())))
    lines.append(f"blessed: {report.blessed}")
    lines.append(f"pushed: {report.pushed or 'nothing'}")
    return "\n".join(lines)

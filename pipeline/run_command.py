"""``odezoo run``: build the config from the command line, run the local pipeline, print a summary,
and exit non-zero when the run failed or pushed nothing (saying which)."""

import os
import sys
from pathlib import Path


def config_from_args(args):
    from pipeline.config import PipelineConfig

    root = Path(args.pipeline_root).resolve()
    overrides = {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.accuracy_threshold is not None:
        overrides["accuracy_threshold"] = args.accuracy_threshold
    return PipelineConfig(model=args.model, data=args.data, pipeline_root=str(root / "root"),
                          metadata_path=str(root / "metadata.sqlite"), serving_dir=str(root / "serving"),
                          base_model=resolve_base_model(args.base_model, root), schema_path=args.schema,
                          example_limit=args.limit, **overrides)


def resolve_base_model(base, root):
    """A pushed model's folder as is; a preset name becomes a folder with its ``model.keras``."""
    if base is None:
        return None
    if os.path.isdir(base):
        if not os.path.exists(os.path.join(base, "model.keras")):
            raise ValueError(f"--base-model {base!r} has no model.keras; give a folder odezoo pushed or a preset.")
        return str(Path(base).resolve())
    import zoo

    if base not in zoo.presets.list():
        raise ValueError(f"--base-model {base!r} is neither a folder nor a preset ({', '.join(zoo.presets.list())}).")
    folder = root / "base_models" / base
    if not (folder / "model.keras").exists():
        folder.mkdir(parents=True, exist_ok=True)
        zoo.ODENetClassifier.from_preset(base).save(folder / "model.keras")
    return str(folder)


def main(args):
    try:
        config = config_from_args(args)
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
        print("odezoo run: the model was not blessed by the Evaluator (its accuracy is below "
              f"{config.accuracy_threshold} or below the last blessed model's by more than "
              f"{config.accuracy_tolerance}); nothing was pushed.", file=sys.stderr)
        return 1
    if not report.pushed:
        print("odezoo run: the Pusher pushed nothing.", file=sys.stderr)
        return 1
    return 0


def summary(report):
    lines = ["", f"{'component':<34} {'state':<10} {'seconds':>8}"]
    lines += [f"{name:<34} {state:<10} {seconds:8.1f}" for name, state, seconds in report.components]
    lines.append(f"{'whole run':<34} {'':<10} {report.seconds:8.1f}")
    if report.metrics:
        lines.append("eval metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(report.metrics.items())))
    lines.append(f"blessed: {report.blessed}")
    lines.append(f"pushed: {report.pushed or 'nothing'}")
    return "\n".join(lines)

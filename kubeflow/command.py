"""``odezoo kubeflow compile`` and ``odezoo kubeflow submit``."""

import sys


def main(args):
    try:
        if args.action == "compile":
            return _compile(args)
        if args.action == "replay":
            return _replay(args)
        from kubeflow.submit import submit

        print(submit(args.host, args.package, experiment=args.experiment))
        return 0
    except (ValueError, RuntimeError) as error:
        print(f"odezoo kubeflow {args.action}: {error}", file=sys.stderr)
        return 2


def _compile(args):
    from kubeflow.options import KubeflowOptions, check_output, parse_node_selector, parse_toleration
    from components import tasks
    from components.sources import FILE_SOURCES
    from pipeline.config import PipelineConfig

    options = KubeflowOptions(pipeline_root=args.pipeline_root, image=args.image, trainer_image=args.trainer_image,
                              gpus=args.gpus, gpu_type=args.gpu_type,
                              node_selectors=dict(parse_node_selector(s) for s in args.node_selector),
                              tolerations=tuple(parse_toleration(t) for t in args.toleration))
    config = PipelineConfig.from_args(args, base_model=args.base_model)
    if config.data.partition(":")[0] in FILE_SOURCES:  # local files; a tfds: copy is the cluster's to read
        tasks.module(config.model, "data_checks").check(config)
    check_output(args.output)
    from kubeflow.compiler import compile_pipeline  # loads TFX: only once the arguments are good

    spec = compile_pipeline(config, options, args.output)
    names = list(spec["root"]["dag"]["tasks"])
    print(f"wrote {args.output}: {len(names)} tasks: {', '.join(names)}")
    return 0


def _replay(args):
    import time

    from kubeflow.replay import replay

    started = time.perf_counter()
    timings, pushed, _ = replay(args.package, args.root)
    for name, seconds in timings:
        print(f"{name:<34} {seconds:8.1f}")
    print(f"{'whole replay':<34} {time.perf_counter() - started:8.1f}")
    print(f"pushed: {pushed or 'nothing'}")
    return 0 if pushed else 1

"""The Evaluator's config every task builds the same way: one metric blessed against the absolute
threshold and, with a baseline, against the last blessed model within the tolerance, plus the
example count, over the whole eval split."""

import tensorflow_model_analysis as tfma


def blessing_config(config, with_baseline, metric_class, higher_is_better, model_spec):
    """The TFMA EvalConfig blessing ``metric_class`` (a TFMA metric's class name) at
    ``config.threshold`` and ``config.tolerance``; ``model_spec`` says which signature, label and
    prediction it scores."""
    bound = "lower_bound" if higher_is_better else "upper_bound"
    threshold = tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(**{bound: {"value": config.threshold}}))
    if with_baseline:
        direction = tfma.MetricDirection.HIGHER_IS_BETTER if higher_is_better else tfma.MetricDirection.LOWER_IS_BETTER
        allowed = -config.tolerance if higher_is_better else config.tolerance
        threshold.change_threshold.CopyFrom(tfma.GenericChangeThreshold(direction=direction,
                                                                        absolute={"value": allowed}))
    return tfma.EvalConfig(model_specs=[model_spec], slicing_specs=[tfma.SlicingSpec()],
                           metrics_specs=[tfma.MetricsSpec(metrics=[
                               tfma.MetricConfig(class_name=metric_class, threshold=threshold),
                               tfma.MetricConfig(class_name="ExampleCount")])])

"""The Evaluator's view of a series model: TFMA's mean squared error of the forecast on
Transform's eval examples (standardized values, so 1 is what predicting the training mean scores),
at most the threshold and, once a blessed model exists, not worse than that baseline by more than
the tolerance (lower is better); and why a model was not blessed."""

import tensorflow_model_analysis as tfma

from components.tasks.forecasting import THRESHOLD_OPTION
from components.tasks.evaluation import blessing_config
from components.tasks.forecasting.features import TARGETS

# The served model's signature the Evaluator calls: transformed examples in, standardized ``mean`` out.
EVAL_SIGNATURE = "serve_transformed"
MSE_METRIC = "mean_squared_error"


def eval_config(config, with_baseline):
    return blessing_config(config, with_baseline, "MeanSquaredError", higher_is_better=False,
                           model_spec=tfma.ModelSpec(signature_name=EVAL_SIGNATURE, label_key=TARGETS,
                                                     prediction_key="mean"))


def why_not_blessed(report, config):
    """The checks an unblessed model failed (``report.failed_checks``), with its figures and the flag
    that changes each."""
    mse = report.metrics[MSE_METRIC]
    reasons = []
    if "threshold" in report.failed_checks:
        reasons.append(f"its eval forecast MSE {mse:.4f} (standardized values) is above the threshold "
                       f"{config.threshold:g}, which {THRESHOLD_OPTION} sets")
    if "baseline" in report.failed_checks:
        change = report.changes[MSE_METRIC]
        reasons.append(f"its eval forecast MSE {mse:.4f} is {change:.4f} above the blessed baseline's "
                       f"{mse - change:.4f}, more than the tolerance {config.tolerance:g}")
    return "; ".join(reasons) or "its validation failed"

"""The Evaluator's view of a classifier: TFMA's accuracy on Transform's eval examples, against the
threshold and, once a blessed model exists, against that baseline; and why a model was not blessed."""

import tensorflow_model_analysis as tfma

from components.tasks.classification.features import LABEL
from components.tasks.evaluation import blessing_config

# The Evaluator's SparseCategoricalAccuracy, by the name TFMA gives it; a model is blessed on it.
ACCURACY_METRIC = "sparse_categorical_accuracy"


def eval_config(config, with_baseline):
    return blessing_config(config, with_baseline, "SparseCategoricalAccuracy", higher_is_better=True,
                           model_spec=tfma.ModelSpec(signature_name="serving_default", label_key=LABEL,
                                                     prediction_key="probabilities"))


def why_not_blessed(report, config):
    """The checks an unblessed model failed (``report.failed_checks``), with its figures and the flag
    that changes each."""
    accuracy = report.metrics[ACCURACY_METRIC]
    reasons = []
    if "threshold" in report.failed_checks:
        limited_run_hint = (" (a --limit run from scratch trains a few steps; fine-tuning a preset, --base-model "
                            "odenet_digits, passes it in one epoch)"
                            if config.example_limit and not config.base_model else "")
        reasons.append(f"its eval accuracy {accuracy:.4f} is below the threshold {config.threshold:g}, "
                       f"which --accuracy-threshold sets{limited_run_hint}")
    if "baseline" in report.failed_checks:
        change = report.changes[ACCURACY_METRIC]
        reasons.append(f"its eval accuracy {accuracy:.4f} is {-change:.4f} below the blessed baseline's "
                       f"{accuracy - change:.4f}, more than the tolerance {config.tolerance:g}")
    return "; ".join(reasons) or "its validation failed"

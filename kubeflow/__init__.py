"""The odezoo pipeline compiled for Kubeflow Pipelines."""

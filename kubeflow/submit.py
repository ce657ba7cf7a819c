"""Submitting a compiled pipeline to a Kubeflow Pipelines endpoint with ``kfp.Client``."""


def submit(host, package, experiment=None, run_name=None):
    """Creates a run from ``package`` (the compiled YAML); returns the run's URL."""
    import os

    import kfp

    if not os.path.exists(package):
        raise ValueError(f"odezoo kubeflow submit: {package!r} does not exist; compile it first.")
    try:
        client = kfp.Client(host=host)
        result = client.create_run_from_pipeline_package(package, arguments={}, experiment_name=experiment,
                                                         run_name=run_name)
    except Exception as error:  # kfp raises transport and API errors of many kinds
        raise RuntimeError(f"odezoo kubeflow submit: the Kubeflow Pipelines endpoint {host!r} could not be reached "
                           f"or refused the run: {type(error).__name__}: {error}") from error
    return f"{host.rstrip('/')}/#/runs/details/{result.run_id}"

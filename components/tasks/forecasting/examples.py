"""The series ZooExampleGen writes for the forecasting task, each as ``zoo.export.series_example``
makes it (``features``): the embedded ``spirals`` (Chen et al.: observe 100 noisy points,
forecast the next 100 of the noise-free curve), ``periodic`` (Rubanova et al.'s toy data: half
of 100 irregular times observed, every time queried), ``co2`` (two-year windows of the weekly Mauna
Loa record, forecasting the next 52 measured weeks), or a long-format ``csv:PATH``."""

import functools

import numpy as np

import zoo
from components.tasks.forecasting import HORIZON
from components.tasks.forecasting.csv_series import read_series

EMBEDDED = {"spirals": zoo.datasets.spirals_arrays, "periodic": zoo.datasets.periodic_arrays,
            "co2": zoo.datasets.co2_arrays}


# ExampleGen asks for each split in turn; the CSV is read and grouped once.
_csv_splits = functools.lru_cache(maxsize=1)(read_series)


def split_arrays(source, split, limit=0, horizon=HORIZON):
    """The inputs dict and targets of one split of ``source``."""
    kind, _, path = source.partition(":")
    if source in EMBEDDED:
        arrays = EMBEDDED[source](split)
        inputs, targets = arrays["inputs"], arrays["targets"]
    elif kind == "csv":
        arrays = _csv_splits(path, horizon)[split]
        inputs, targets = {key: arrays[key] for key in zoo.export.SERIES_FEATURES}, arrays["targets"]
    else:
        raise ValueError(f"ZooExampleGen: unknown series source {source!r}; use {', '.join(EMBEDDED)} or csv:PATH.")
    if limit:
        inputs, targets = {key: array[:limit] for key, array in inputs.items()}, targets[:limit]
    return inputs, np.asarray(targets)


def serialized_examples(source, split, limit, options):
    inputs, targets = split_arrays(source, split, limit, options.get("horizon", HORIZON))
    for row in range(len(targets)):
        yield zoo.export.series_example(inputs["times"][row], inputs["values"][row], inputs["mask"][row],
                                        inputs["query_times"][row], targets[row])

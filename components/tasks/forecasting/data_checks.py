"""What a ``--data`` source of series holds, checked before any component runs, so that bad input
fails in seconds with the example, the field and what is wrong, instead of deep inside a component
(or, worse, in a model trained on it)."""

import numpy as np

from components.sources import read_examples, source_files
from components.tasks.forecasting import HORIZON
from components.tasks.forecasting.features import MASK, QUERY_TIMES, SERIES, TARGETS, TIMES, VALUES


def check(config):
    """Raises ValueError saying what is wrong when ``config.data`` does not hold series the pipeline
    can train on."""
    kind, _, path = config.data.partition(":")
    if kind == "csv":
        from components.tasks.forecasting.csv_series import read_series

        read_series(path, config.horizon or HORIZON)
    elif kind == "tfrecord":
        check_tfrecord(path)


def check_tfrecord(path):
    """Every record of every file: a tf.Example of the raw series layout (``features``), with the
    same T, Q and D in every example (SchemaGen and Transform read fixed lengths)."""
    shape = None
    for file in source_files("tfrecord", path):
        examples = read_examples(file)
        for index, example in enumerate(examples):
            where = f"tfrecord:{file}: example {index}"
            example_shape = check_series_example(example, where)
            if shape is None:
                shape, first = example_shape, where
            elif example_shape != shape:
                raise ValueError(f"{where} has (T, Q, D) = {example_shape}, but {first} has {shape}; every example "
                                 "needs the same numbers of times, query times and features (pad a shorter series "
                                 "with mask 0, repeating its last time).")


def check_series_example(example, where):
    """(T, Q, D) of one raw series ``tf.Example``; raises ValueError naming the field that is wrong."""
    features = example.features.feature
    arrays = {}
    for name in SERIES:
        kind = features[name].WhichOneof("kind") if name in features else None
        if kind != "float_list":
            found = f"a {kind.replace('_', ' ')}" if kind else "missing"
            raise ValueError(f"{where}: feature {name!r} is {found}; it must be a float list (times and values "
                             f"are numbers). Found features: {', '.join(sorted(features)) or 'none'}.")
        arrays[name] = np.asarray(features[name].float_list.value, np.float64)
    times, queries = arrays[TIMES], arrays[QUERY_TIMES]
    if not len(times) or not len(queries):
        raise ValueError(f"{where}: feature {TIMES if not len(times) else QUERY_TIMES!r} is empty; a series needs at "
                         "least one time and one query time.")
    if len(arrays[VALUES]) % len(times) or not len(arrays[VALUES]):
        raise ValueError(f"{where}: feature {VALUES!r} holds {len(arrays[VALUES])} floats, not len({TIMES}) * D "
                         f"with len({TIMES}) = {len(times)} (row-major, D values per time).")
    features_per_time = len(arrays[VALUES]) // len(times)
    for name, steps in ((MASK, len(times)), (TARGETS, len(queries))):
        if len(arrays[name]) != steps * features_per_time:
            raise ValueError(f"{where}: feature {name!r} holds {len(arrays[name])} floats; with {len(times)} times "
                             f"and {len(arrays[VALUES])} values (D = {features_per_time}) it needs "
                             f"{steps} * {features_per_time} = {steps * features_per_time}.")
    for name in (TIMES, QUERY_TIMES, TARGETS):
        if not np.isfinite(arrays[name]).all():
            raise ValueError(f"{where}: feature {name!r} holds {arrays[name][~np.isfinite(arrays[name])][0]}; it must "
                             "hold finite numbers.")
    if (np.diff(times) < 0).any():
        at = int(np.flatnonzero(np.diff(times) < 0)[0])
        raise ValueError(f"{where}: feature {TIMES!r} decreases at index {at + 1} ({times[at]:g} then "
                         f"{times[at + 1]:g}); times must be non-decreasing.")
    mask = arrays[MASK]
    if not np.isin(mask, (0.0, 1.0)).all():
        raise ValueError(f"{where}: feature {MASK!r} holds {mask[~np.isin(mask, (0.0, 1.0))][0]:g}; it must hold 1 "
                         "(observed) or 0 (missing).")
    if not mask.any():
        raise ValueError(f"{where}: feature {MASK!r} is all 0: the series observes nothing to forecast from.")
    if not np.isfinite(arrays[VALUES][mask > 0]).all():
        raise ValueError(f"{where}: feature {VALUES!r} holds a value that is not finite where {MASK!r} is 1; mark a "
                         "missing value with mask 0.")
    return len(times), len(queries), features_per_time

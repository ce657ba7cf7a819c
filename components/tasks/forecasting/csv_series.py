"""Series from a long-format CSV (``features.CSV_LAYOUT``): one row per series and time, grouped
into examples with each series' last ``horizon`` rows as its queries. Light to import (pandas, no
TensorFlow), so that the command line checks a CSV before any component runs and ExampleGen reads
it the same way."""

import numpy as np

from components.sources import source_files
from components.tasks.forecasting.features import CSV_LAYOUT, SERIES_COLUMN, TIME_COLUMN

EVAL_FRACTION = 0.2


def read_table(path):
    """Every CSV of ``path`` as one DataFrame of text cells, after checking the header."""
    import pandas as pd

    frames, header = [], None
    for file in source_files("csv", path):
        try:
            frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise ValueError(f"csv:{file}: {str(error).strip() or type(error).__name__}") from None
        columns = list(frame.columns)
        if header is not None and columns != header:
            raise ValueError(f"csv:{path}: {file} has the columns {', '.join(columns)}, but the first file has "
                             f"{', '.join(header)}; every CSV of a folder needs the same header.")
        header = columns
        missing = [name for name in (SERIES_COLUMN, TIME_COLUMN) if name not in columns]
        if missing or len(columns) < 3:
            problem = f"no {' or '.join(map(repr, missing))} column" if missing else "no value column"
            raise ValueError(f"csv:{file}: {problem}; found the columns {', '.join(columns)}. Expected: {CSV_LAYOUT}.")
        if len(set(columns)) != len(columns):
            raise ValueError(f"csv:{file}: repeated column names in {', '.join(columns)}.")
        frame.insert(0, "_file", file)
        frame.insert(1, "_row", np.arange(len(frame)) + 1)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    if not len(table):
        raise ValueError(f"csv:{path}: no rows under the header.")
    return table


def _numbers(table, column, allow_missing):
    import pandas as pd

    numbers = pd.to_numeric(table[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    text = table[column].str.strip().to_numpy()
    bad = (np.isnan(numbers) & ((text != "") | (not allow_missing))) | np.isinf(numbers)
    if bad.any():
        row = np.flatnonzero(bad)[0]
        what = (f"{text[row]!r} is not a finite number" if text[row] else "the value is missing")
        raise ValueError(f"csv:{table['_file'][row]}: column {column!r}, data row {table['_row'][row]}: {what}.")
    return numbers


def read_series(path, horizon):
    """The CSV's series as ``{split: dict of arrays}`` (``times`` (B, T), ``values`` and ``mask``
    (B, T, D), ``query_times`` (B, Q), ``targets`` (B, Q, D), ``names``), T the longest series'
    observed rows (shorter ones padded with mask 0, their last time repeated); raises ValueError
    naming the series, row and column of the first problem."""
    table = read_table(path)
    value_columns = [name for name in table.columns if name not in ("_file", "_row", SERIES_COLUMN, TIME_COLUMN)]
    times = _numbers(table, TIME_COLUMN, allow_missing=False)
    values = np.stack([_numbers(table, name, allow_missing=True) for name in value_columns], axis=1)
    names = table[SERIES_COLUMN].to_numpy()
    order = list(dict.fromkeys(names))
    if len(order) < 2:
        raise ValueError(f"csv:{path}: one series ({order[0]!r}); the train and eval splits need at least two.")
    series = []
    for name in order:
        rows = np.flatnonzero(names == name)
        rows = rows[np.argsort(times[rows], kind="stable")]
        where = f"csv:{path}: series {name!r}"
        if len(rows) <= horizon:
            raise ValueError(f"{where} has {len(rows)} rows; it needs more than --horizon {horizon} (its last "
                             f"{horizon} rows are forecast from the ones before).")
        observed, queries = rows[:-horizon], rows[-horizon:]
        missing = np.isnan(values[queries])
        if missing.any():
            row, column = np.argwhere(missing)[0]
            raise ValueError(f"{where}: column {value_columns[column]!r}, data row {table['_row'][queries[row]]} "
                             f"is one of its last {horizon} rows, the queries, whose values must all be present.")
        if np.isnan(values[observed]).all():
            raise ValueError(f"{where}: every value before its last {horizon} rows is missing; the model needs at "
                             "least one observed value to forecast from.")
        series.append((name, times[observed], values[observed], times[queries], values[queries]))
    length = max(len(item[1]) for item in series)
    padding = [length - len(item[1]) for item in series]
    # Padding is missing values: mask 0.
    padded = np.stack([np.pad(item[2], ((0, pad), (0, 0)), constant_values=np.nan) for item, pad in zip(series, padding)])
    arrays = {"names": [item[0] for item in series],
              "times": np.stack([np.pad(item[1], (0, pad), mode="edge") for item, pad in zip(series, padding)]),
              "values": np.nan_to_num(padded), "mask": (~np.isnan(padded)).astype(np.float32),
              "query_times": np.stack([item[3] for item in series]), "targets": np.stack([item[4] for item in series])}
    n_eval = max(1, int(round(EVAL_FRACTION * len(series))))
    return {split: {key: array[rows] for key, array in arrays.items()}
            for split, rows in (("train", slice(None, -n_eval)), ("eval", slice(-n_eval, None)))}

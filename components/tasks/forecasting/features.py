"""The example layout of the forecasting task, and its names; light to import (no TensorFlow).

A raw example is one series (``zoo.export.series_example``'s form): float lists ``times`` (T,
non-decreasing), ``values`` and ``mask`` (T * D, row-major, mask 1 where observed),
``query_times`` (Q) and ``targets`` (Q * D, the values at the query times). Transform writes the
same features scaled (``scaling``) plus the scaling it learned, ``value_mean`` and ``value_std``
(D each) and ``time_scale`` (1), in every transformed example, and each series' ``time_origin``
(1, its first time).
"""

TIMES, VALUES, MASK, QUERY_TIMES, TARGETS = "times", "values", "mask", "query_times", "targets"
SERIES = (TIMES, VALUES, MASK, QUERY_TIMES, TARGETS)
VALUE_MEAN, VALUE_STD, TIME_SCALE, TIME_ORIGIN = "value_mean", "value_std", "time_scale", "time_origin"

# The columns of a csv: source, one row per series and time (long format).
SERIES_COLUMN, TIME_COLUMN = "series", "time"
CSV_LAYOUT = (f"a header row; a {SERIES_COLUMN!r} column naming each row's series (any text); a {TIME_COLUMN!r} "
              "column of numbers (a series' rows in any order, sorted by time when read); one or more numeric value "
              "columns, an empty cell where a value is missing. Each series' last --horizon rows (by time) are "
              "its queries, whose values must all be present, and the rows before them what the model observes, "
              "at least one value of which must be present; the last fifth of the series (in order of first "
              "appearance) form the eval split")

"""What a ``--data`` source of images holds, checked before any component runs, so that bad input
fails in seconds with what is wrong instead of deep inside a component.
"""

import math

from components.sources import read_examples, source_files
from components.tasks.classification.features import CSV_LAYOUT, IMAGE, LABEL, pixel_columns, pixel_number

_CHUNK_ROWS = 65536


def check(config):
    """Raises ValueError saying what is wrong when ``config.data`` does not hold examples the
    pipeline can train on."""
    kind, _, path = config.data.partition(":")
    if kind == "csv":
        check_csv(path, config.num_classes, config.pixel_max)
    elif kind == "tfrecord":
        check_tfrecord(path)
    elif kind == "tfds":
        check_tfds(path)


def _columns(header):
    shown = header if len(header) <= 12 else header[:5] + ["..."] + header[-5:]
    return f"{len(header)} columns: {', '.join(shown)}"


def check_csv(path, num_classes, pixel_max):
    """The header (a label and one numbered column per pixel of a square image), then every value:
    numbers, integer labels in [0, num_classes), pixels in [0, pixel_max]."""
    import csv

    files = source_files("csv", path)
    headers = {}
    for file in files:
        with open(file, newline="") as handle:
            headers[file] = next(csv.reader(handle), [])
    header = headers[files[0]]
    for file in files[1:]:
        if headers[file] != header:
            raise ValueError(f"csv:{path}: {file} has {_columns(headers[file])}, but {files[0]} has "
                             f"{_columns(header)}; every CSV of a folder needs the same header.")
    if LABEL not in header:
        raise ValueError(f"csv:{path}: no {LABEL!r} column; found {_columns(header)}. Expected: {CSV_LAYOUT}.")
    pixels = pixel_columns(header)
    numbers = [pixel_number(name) for name in pixels]
    unnumbered = [name for name, number in zip(pixels, numbers) if number is None]
    if unnumbered:
        raise ValueError(f"csv:{path}: {'columns' if len(unnumbered) > 1 else 'column'} "
                         f"{', '.join(map(repr, unnumbered))}: neither {LABEL!r} nor a pixel column named with its "
                         f"index. Expected: {CSV_LAYOUT}.")
    if numbers != list(range(len(pixels))):
        missing = sorted(set(range(max(numbers) + 1)) - set(numbers))
        repeated = sorted({number for number in numbers if numbers.count(number) > 1})
        problem = (f"no column for pixel {', '.join(map(str, missing))}" if missing
                   else f"several columns for pixel {', '.join(map(str, repeated))}")
        raise ValueError(f"csv:{path}: {problem}; the {len(pixels)} pixel columns must be numbered 0 to "
                         f"{len(pixels) - 1}, one per pixel in row-major order.")
    side = math.isqrt(len(pixels))
    if not pixels or side * side != len(pixels):
        raise ValueError(f"csv:{path}: {len(pixels)} pixel columns do not make a square one-channel image "
                         f"(64 make 8x8, 784 make 28x28). Expected: {CSV_LAYOUT}.")
    for file in files:
        _check_csv_values(file, num_classes, pixel_max)


def _check_csv_values(file, num_classes, pixel_max):
    import pandas as pd

    rows = 0
    try:
        for chunk in pd.read_csv(file, chunksize=_CHUNK_ROWS, dtype=str, keep_default_na=False):
            problem = _first_problem(chunk, num_classes, pixel_max)
            if problem:
                row, column, what = problem
                raise ValueError(f"csv:{file}: column {column!r}, data row {rows + row + 1}: {what}.")
            rows += len(chunk)
    except pd.errors.ParserError as error:
        raise ValueError(f"csv:{file}: {str(error).strip()}") from None
    if not rows:
        raise ValueError(f"csv:{file}: no rows under the header.")


def _first_problem(chunk, num_classes, pixel_max):
    """(row, column, what is wrong) of the first value of ``chunk`` (rows of CSV text) the pipeline
    cannot train on, the largest one for pixels above ``pixel_max``; None when every value is good."""
    import numpy as np
    import pandas as pd

    values = chunk.apply(pd.to_numeric, errors="coerce")
    columns = list(chunk.columns)

    def at(mask, describe):
        row, index = np.argwhere(mask)[0]
        return row, columns[index], describe(values.iat[row, index], chunk.iat[row, index])

    numbers = values.to_numpy(dtype=float)
    if not numbers.size:
        return None
    if np.isnan(numbers).any():
        return at(np.isnan(numbers), lambda value, text: f"{text!r} is not a number" if str(text).strip()
                  else "the value is missing")
    is_label = np.array([column == LABEL for column in columns])
    bad_label = is_label & ((numbers != np.round(numbers)) | (numbers < 0) | (numbers >= num_classes))
    if bad_label.any():
        return at(bad_label, lambda value, text: f"label {value:g} is not an integer class from 0 to "
                                                 f"{num_classes - 1}")
    pixels = np.where(is_label, 0.0, numbers)
    if (pixels < 0).any():
        return at(pixels < 0, lambda value, text: f"pixel value {value:g} is negative; pixels must lie in "
                                                   f"[0, {pixel_max:g}]")
    if pixels.max() > pixel_max:
        hint = ("pass --pixel-max with the value of a full-intensity pixel, which every pixel is divided by (16 for "
                "scikit-learn's raw digits, 255 for 8-bit images)" if pixel_max == 1
                else f"--pixel-max {pixel_max:g} must be at least the largest pixel value")
        return at(pixels == pixels.max(), lambda value, text: f"pixel value {value:g} is above {pixel_max:g}; {hint}")
    return None


def check_tfrecord(path):
    """The first record of every file: a ``tf.Example`` with an int64 ``label`` and an ``image`` of
    the pixels of a square one-channel image."""
    for file in source_files("tfrecord", path):
        examples = read_examples(file, limit=1)
        features = examples[0].features.feature
        found = ", ".join(f"{name} ({features[name].WhichOneof('kind')})" for name in sorted(features)) or "none"
        if LABEL not in features or features[LABEL].WhichOneof("kind") != "int64_list":
            raise ValueError(f"tfrecord:{file}: the examples need an int64 feature {LABEL!r}; found: {found}.")
        kind = features[IMAGE].WhichOneof("kind") if IMAGE in features else None
        pixels = len(getattr(features[IMAGE], kind).value) if kind in ("float_list", "int64_list") else 0
        if not pixels or math.isqrt(pixels) ** 2 != pixels:
            raise ValueError(f"tfrecord:{file}: the examples need a feature {IMAGE!r}, a float or int64 list of the "
                             f"pixels of a square one-channel image, row-major; found: {found}.")


def check_tfds(spec):
    """``NAME[@DATA_DIR]`` is prepared (ZooExampleGen does not download) and has (image, label) pairs."""
    import tensorflow_datasets as tfds

    name, _, data_dir = spec.partition("@")
    where = data_dir or "tensorflow-datasets' default data dir"
    try:
        builder = tfds.builder(name, data_dir=data_dir or None)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(f"tfds:{spec}: tensorflow-datasets has no dataset {name!r}, and none is prepared in "
                         f"{where}.") from None
    if not builder.is_prepared():
        raise ValueError(f"tfds:{spec}: {name} is not prepared in {where}; odezoo does not download, so prepare it "
                         f"first (tfds build {name} --data_dir DIR), then pass tfds:{name}@DIR.")
    if builder.info.supervised_keys is None:
        raise ValueError(f"tfds:{spec}: {name} has no supervised (image, label) keys.")
    if "train" not in builder.info.splits or not {"test", "validation"} & set(builder.info.splits):
        raise ValueError(f"tfds:{spec}: {name} needs a 'train' split and a 'test' or 'validation' one; it has "
                         f"{', '.join(builder.info.splits)}.")

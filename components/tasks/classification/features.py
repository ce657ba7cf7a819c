"""The example layouts the classification task reads, and their names; light to import (no TensorFlow), so that
the command line checks a data source before any component runs.

Raw examples hold ``label`` (an integer class) and either ``image`` (every pixel, row-major, as
ZooExampleGen writes) or one column per pixel (a CSV). Transform turns both into the one layout the
Trainer, the Evaluator and the served model read: ``image``, float pixels in [0, 1], and ``label``.
"""

import re

LABEL = "label"
IMAGE = "image"

CSV_LAYOUT = ("a header row naming the columns; a 'label' column of integer classes 0 to num_classes - 1; one "
              "numeric column per pixel whose name ends with its index, from 0 in row-major order (p0, p1, ... "
              "or pixel0, pixel1, ...), as many as a square one-channel image has (64 for 8x8); pixel values in "
              "[0, 1], or in [0, N] with --pixel-max N")

_NUMBER = re.compile(r"(\d+)$")


def pixel_number(name):
    """The pixel index a CSV column name ends with (``p12`` and ``pixel_12``: 12), or None."""
    match = _NUMBER.search(name)
    return int(match.group(1)) if match else None


def pixel_columns(names):
    """The CSV pixel columns in row-major order: every column but the label, by the index in its name."""
    return sorted((name for name in names if name != LABEL), key=lambda name: (pixel_number(name) or 0, name))

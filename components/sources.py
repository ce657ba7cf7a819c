"""The files a ``csv:PATH`` or ``tfrecord:PATH`` source reads, for every task: a file means that file
only, a folder every file in it. Light to import (no TensorFlow)."""

import glob
import os

# Sources read whole by TFX's own ExampleGens, which have no row limit.
FILE_SOURCES = ("csv", "tfrecord")


def source_files(kind, path):
    """The files a csv: or tfrecord: source reads: ``path`` itself, or every entry of the folder."""
    if not os.path.isdir(path):
        return [path]
    entries = sorted(os.listdir(path))
    folders = [entry for entry in entries if os.path.isdir(os.path.join(path, entry))]
    if folders:
        raise ValueError(f"{kind}:{path}: the folder holds folders ({', '.join(folders)}); ExampleGen reads every "
                         "entry of it as a file.")
    if not entries:
        raise ValueError(f"{kind}:{path}: the folder is empty.")
    return [os.path.join(path, entry) for entry in entries]


def input_base_and_pattern(path):
    """ExampleGen's ``input_base`` and the glob of its one split: a file matches itself only."""
    if os.path.isdir(path):
        return path, "*"
    return os.path.dirname(os.path.abspath(path)), glob.escape(os.path.basename(path))


def tfrecord_compression(file):
    # Beam's ReadFromTFRecord, which ImportExampleGen uses, decides the compression by the name's ending.
    return "GZIP" if file.endswith(".gz") else ("ZLIB" if file.endswith(".deflate") else "")


def read_examples(file, limit=None):
    """The tf.Examples of a TFRecord file (the first ``limit`` of them), or a ValueError saying how
    it was read when it holds none or is not one."""
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    compression = tfrecord_compression(file)
    records = tf.data.TFRecordDataset(file, compression_type=compression)
    try:
        examples = [tf.train.Example.FromString(record.numpy())
                    for record in (records.take(limit) if limit else records)]
    except (tf.errors.OpError, DecodeError) as error:
        read_as = f"{compression} compressed" if compression else "uncompressed (GZIP files need a .gz ending)"
        raise ValueError(f"tfrecord:{file}: not a TFRecord file of tf.Examples, read as {read_as} "
                         f"({type(error).__name__}).") from None
    if not examples:
        raise ValueError(f"tfrecord:{file}: the file holds no records.")
    return examples

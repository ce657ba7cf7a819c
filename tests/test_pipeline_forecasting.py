"""The forecasting task of the pipeline (the series models): its configuration and arguments, bad
series refused before any component runs with the example and field named, and end to end (tiny):
the spirals preset fine-tuned and pushed, its SavedModel served in raw units without odezoo and
scored as the Evaluator scored it; the pushed model fine-tuned on a TFRecord file in its own scaling
under an impossible threshold, which pushes nothing; and an ODE-RNN forecaster trained on a
long-format CSV.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from components.tasks import forecasting
from pipeline.config import PipelineConfig
from test_pipeline import (component_states, eval_metrics, latest_pushed, odezoo_run, serve_without_odezoo,
                           serving_versions)

SERIES_LIMIT = "100"


def write_series_csv(path, n_series=30, rows=24, edit=None, header=("series", "time", "x", "y")):
    """Long-format noisy sine series with irregular times, rows shuffled, a few observed cells empty;
    ``edit(series, row, cells)`` may change a row's cells (a dict by column)."""
    rng = np.random.default_rng(0)
    lines = []
    for series in range(n_series):
        times = np.sort(rng.uniform(0, 10, rows))
        phase, frequency = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 1.0)
        for row, time in enumerate(times):
            cells = {"series": f"s{series}", "time": f"{time:.4f}", "x": f"{np.sin(frequency * time + phase):.4f}",
                     "y": f"{np.cos(frequency * time + phase) + 0.05 * rng.standard_normal():.4f}"}
            if row < rows - 6 and rng.random() < 0.1:
                cells["y"] = ""
            if edit:
                edit(series, row, cells)
            lines.append([cells.get(column, "") for column in header])
    order = rng.permutation(len(lines))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(lines[index] for index in order)
    return path


def write_series_tfrecord(path, examples):
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(path)) as writer:
        for example in examples:
            writer.write(example if isinstance(example, bytes) else example.SerializeToString())
    return path


def series_example(times=(0.0, 1.0, 2.0, 3.0), values=None, mask=None, query_times=(4.0, 5.0), targets=None):
    """A raw series tf.Example of two features, whose fields may be given any length."""
    import tensorflow as tf

    import zoo

    return tf.train.Example.FromString(zoo.export.series_example(
        times, np.arange(2 * len(times)) if values is None else values,
        np.ones(2 * len(times)) if mask is None else mask, query_times,
        np.zeros(2 * len(query_times)) if targets is None else targets))


# Quick checks: configuration, arguments and data, refused before any component runs.

def test_a_series_model_takes_the_forecasting_defaults():
    scratch, fine_tuning = PipelineConfig(model="latent_ode"), PipelineConfig(model="ode_rnn", base_model="/m/1")
    assert (scratch.data, scratch.epochs, scratch.threshold, scratch.tolerance) == (
        forecasting.DEFAULT_DATA, forecasting.EPOCHS, forecasting.THRESHOLD, forecasting.TOLERANCE)
    assert scratch.learning_rate == forecasting.LEARNING_RATE > fine_tuning.learning_rate == \
        forecasting.FINE_TUNING_LEARNING_RATE
    assert scratch.trainer_config()["model"] == "latent_ode" and PipelineConfig().data == "digits"


@pytest.mark.parametrize("args,message", [
    (["--model", "latent_ode", "--data", "digits"],
     "Unknown data source 'digits' for --model latent_ode; use spirals, periodic, co2, csv:PATH or tfrecord:PATH."),
    (["--model", "latent_ode", "--accuracy-threshold", "0.9"],
     "--accuracy-threshold does not apply to --model latent_ode, which is blessed on its eval forecast MSE"),
    (["--mse-threshold", "0.1"], "--mse-threshold does not apply to --model odenet, which is blessed on its eval "
                                 "accuracy: use --accuracy-threshold."),
    (["--model", "latent_ode", "--mse-threshold", "0"], "--mse-threshold must be positive (an MSE), got 0.0."),
    (["--model", "latent_ode", "--horizon", "5"], "--horizon applies to a csv: source of series"),
    (["--model", "ode_rnn", "--pixel-max", "16"], "--pixel-max applies to image classification (odenet)"),
])
def test_bad_forecasting_arguments_fail_before_any_component(tmp_path, args, message):
    code, _, stderr = odezoo_run(tmp_path, *args)
    assert code == 2 and message in stderr, stderr[-2000:]
    assert not (tmp_path / "metadata.sqlite").exists()


def _edit(column, value, series=1, row=3):
    def edit(index, position, cells):
        if index == series and position == row:
            cells[column] = value
    return edit


def _blank_observed(series=2):
    def edit(index, position, cells):
        if index == series and position < 21:
            cells["x"] = cells["y"] = ""
    return edit


@pytest.mark.parametrize("csv_args,args,message", [
    ({"edit": _edit("time", "noon")}, [], "column 'time', data row"),
    ({"edit": _edit("x", "1e999")}, [], "'1e999' is not a finite number."),
    ({"edit": _blank_observed()}, ["--horizon", "3"],
     "series 's2': every value before its last 3 rows is missing; the model needs at least one observed value"),
    ({"edit": _edit("y", "", row=22)}, ["--horizon", "3"], "is one of its last 3 rows, the queries, whose values must "
                                                           "all be present."),
    ({}, ["--horizon", "24"], "has 24 rows; it needs more than --horizon 24 (its last 24 rows are forecast"),
    ({"header": ("id", "time", "x")}, [], "no 'series' column; found the columns id, time, x."),
    ({"n_series": 1}, [], "one series ('s0'); the train and eval splits need at least two."),
])
def test_a_bad_series_csv_is_refused_naming_the_series_and_field(tmp_path, csv_args, args, message):
    data = write_series_csv(tmp_path / "series.csv", **csv_args)
    code, _, stderr = odezoo_run(tmp_path / "run", "--model", "latent_ode", "--data", f"csv:{data}", *args)
    assert code == 2 and message in stderr, stderr[-2000:]
    assert not (tmp_path / "run").exists() or not (tmp_path / "run" / "serving").exists()


def test_the_csv_reader_sorts_pads_and_splits_the_series(tmp_path):
    from components.tasks.forecasting.csv_series import read_series

    def drop_early_rows(index, position, cells):
        if index == 4 and position < 4:
            cells["series"] = "s4-dropped"
    data = write_series_csv(tmp_path / "series.csv", n_series=10, rows=12, edit=drop_early_rows)
    splits = read_series(str(data), horizon=3)
    with open(data) as handle:
        order = list(dict.fromkeys(row["series"] for row in csv.DictReader(handle)))
    assert splits["eval"]["names"] == order[-2:]  # the last fifth, in order of first appearance
    train = splits["train"]
    assert sorted(train["names"]) == sorted(set(order) - set(order[-2:]))
    assert train["times"].shape == (len(order) - 2, 9) and train["values"].shape[1:] == (9, 2) and train["targets"].shape[1:] == (3, 2)
    assert np.all(np.diff(train["times"], axis=1) >= 0) and np.all(train["query_times"] > train["times"][:, -1:])
    split = splits["train" if "s4" in train["names"] else "eval"]
    row = split["names"].index("s4")  # 8 rows: 5 observed, padded to 9 with mask 0 and its last time repeated
    assert split["mask"][row, 5:].sum() == 0 and np.all(split["times"][row, 5:] == split["times"][row, 4])
    assert 0 < train["mask"].mean() < 1  # the empty y cells are masked


@pytest.mark.parametrize("examples,message", [
    ([series_example(), series_example(values=np.arange(7))],
     "example 1: feature 'values' holds 7 floats, not len(times) * D with len(times) = 4"),
    ([series_example(mask=np.ones(6))], "example 0: feature 'mask' holds 6 floats; with 4 times and 8 values (D = 2)"),
    ([series_example(mask=np.zeros(8))], "example 0: feature 'mask' is all 0: the series observes nothing"),
    ([series_example(times=(0.0, 2.0, 1.0, 3.0))], "example 0: feature 'times' decreases at index 2 (2 then 1)"),
    ([series_example(), series_example(times=(0.0, 1.0, 2.0), values=np.arange(6), mask=np.ones(6))],
     "example 1 has (T, Q, D) = (3, 2, 2), but"),
    ([series_example(targets=[0.0, np.nan, 0.0, 0.0])], "example 0: feature 'targets' holds nan; it must hold finite"),
])
def test_bad_series_tfrecords_are_refused_naming_the_example_and_feature(tmp_path, examples, message):
    from components.tasks.forecasting.data_checks import check_tfrecord

    path = write_series_tfrecord(tmp_path / "series.tfrecord", examples)
    with pytest.raises(ValueError) as raised:
        check_tfrecord(str(path))
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_times_that_are_not_numbers_are_refused_by_the_command_line(tmp_path):
    import tensorflow as tf

    example = series_example()
    example.features.feature["times"].Clear()
    example.features.feature["times"].bytes_list.value.extend([b"monday", b"tuesday", b"wed", b"thu"])
    data = write_series_tfrecord(tmp_path / "series.tfrecord", [series_example(), example])
    code, _, stderr = odezoo_run(tmp_path / "run", "--model", "latent_ode", "--data", f"tfrecord:{data}")
    assert code == 2 and "example 1: feature 'times' is a bytes list; it must be a float list" in stderr, stderr
    assert tf.io.gfile.exists(str(data)) and not (tmp_path / "run" / "serving").exists()


# End to end: the spirals history in one pipeline root, then a CSV of its own.

@pytest.fixture(scope="module")
def series_root(tmp_path_factory):
    return tmp_path_factory.mktemp("series")


@pytest.fixture(scope="module")
def preset_series_run(series_root):
    return odezoo_run(series_root, "--model", "latent_ode", "--limit", SERIES_LIMIT, "--epochs", "1",
                      "--base-model", "latent_ode_spirals")


@pytest.fixture(scope="module")
def impossible_run(series_root, preset_series_run, tmp_path_factory):
    import zoo

    arrays = zoo.datasets.spirals_arrays("train")
    x, y = arrays["inputs"], arrays["targets"]
    data = tmp_path_factory.mktemp("series_tfrecord") / "spirals.tfrecord"
    write_series_tfrecord(data, [zoo.export.series_example(x["times"][i], x["values"][i], x["mask"][i],
                                                           x["query_times"][i], y[i]) for i in range(150)])
    return odezoo_run(series_root, "--model", "latent_ode", "--data", f"tfrecord:{data}", "--epochs", "1",
                      "--base-model", str(latest_pushed(series_root)), "--mse-threshold", "1e-6")


def serve_series(pushed, examples):
    """The pushed model's serving_default on ``examples`` (a glob of GZIP TFRecords of raw series
    tf.Examples with targets): per-feature raw MSE, the output's shape, and whether a series padded
    in a batch with a longer one is forecast as when served alone."""
    import numpy as np
    import tensorflow as tf

    signature = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    records = list(tf.data.TFRecordDataset(tf.io.gfile.glob(str(examples)), compression_type="GZIP"))
    squared, shape = [], None
    for start in range(0, len(records), 64):
        batch = tf.stack(records[start:start + 64])
        mean = signature(examples=batch)["mean"].numpy()
        length = mean.shape[1] * mean.shape[2]
        targets = tf.io.parse_example(batch, {"targets": tf.io.FixedLenFeature([length], tf.float32)})["targets"]
        squared.append((mean - targets.numpy().reshape(mean.shape)) ** 2)
        shape = list(mean.shape)
    example = tf.train.Example.FromString(records[0].numpy())
    for key in ("times", "values", "mask"):
        kept = len(example.features.feature[key].float_list.value) * 3 // 5
        del example.features.feature[key].float_list.value[kept:]
    short = example.SerializeToString()
    alone = signature(examples=tf.constant([short]))["mean"].numpy()[0]
    padded = signature(examples=tf.stack([records[1], tf.constant(short)]))["mean"].numpy()[1]
    # Batched, the rows share the solver's adaptive steps (rtol 1e-3), so they agree to its tolerance;
    # padding read as observations would move the forecast by the data's scale.
    return {"mse": np.concatenate(squared).mean(axis=(0, 1)).tolist(), "shape": shape, "count": len(records),
            "padding_ignored": bool(np.allclose(alone, padded, rtol=1e-3, atol=1e-2))}


def raw_split(root, split):
    return next(Path(root).glob(f"root/ZooExampleGen/examples/*/Split-{split}"))


def observed_value_std(split_folder):
    """Each feature's standard deviation over the observed values of raw series examples: what
    Transform's analyzers learn, computed apart."""
    import tensorflow as tf

    values, masks = [], []
    for record in tf.data.TFRecordDataset(tf.io.gfile.glob(str(split_folder / "*")), compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        values.append(np.reshape(feature["values"].float_list.value, (-1, 2)))
        masks.append(np.reshape(feature["mask"].float_list.value, (-1, 2)) > 0)
    values, masks = np.concatenate(values), np.concatenate(masks)
    return np.array([values[masks[:, d], d].std() for d in range(2)])


@pytest.mark.slow
def test_the_spirals_preset_fine_tunes_and_serves_raw_units_without_odezoo(series_root, preset_series_run):
    code, stdout, stderr = preset_series_run
    assert code == 0, stderr[-3000:]
    states = component_states(stdout)
    assert states["ZooExampleGen"] == states["base_model_importer"] == states["Pusher"] == "COMPLETE"
    metrics = eval_metrics(stdout)
    # The preset (trained on raw spirals, kept in its own scaling) after one epoch on 100 series; two epochs
    # from scratch on them scored 0.76.
    assert metrics["example_count"] == int(SERIES_LIMIT) and metrics["mean_squared_error"] < 0.1
    pushed = latest_pushed(series_root)
    assert (pushed / "forecasts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    served = serve_without_odezoo(pushed, raw_split(series_root, "eval") / "*", serve_series)
    assert served["shape"][1:] == [100, 2] and served["count"] == int(SERIES_LIMIT) and served["padding_ignored"]
    # The Evaluator's MSE is over standardized values: the raw MSE divided by the training variance.
    standardized = np.mean(np.array(served["mse"]) / observed_value_std(raw_split(series_root, "train")) ** 2)
    # (the summary prints four decimals)
    np.testing.assert_allclose(standardized, metrics["mean_squared_error"], rtol=2e-3, atol=5e-5 + 1e-5)


@pytest.mark.slow
def test_a_pushed_model_fine_tunes_in_its_own_scaling_and_an_impossible_threshold_pushes_nothing(
        series_root, preset_series_run, impossible_run):
    code, stdout, stderr = impossible_run
    states = component_states(stdout)
    assert code == 1 and states["ImportExampleGen"] == states["base_model_importer"] == "COMPLETE"
    assert "blessed: False" in stdout and "pushed: nothing" in stdout
    mse = eval_metrics(stdout)["mean_squared_error"]
    assert f"its eval forecast MSE {mse:.4f} (standardized values) is above the threshold 1e-06, which " \
           "--mse-threshold sets" in stderr, stderr[-2000:]
    assert len(serving_versions(series_root)) == 1
    trained = sorted(series_root.glob("root/Trainer/model/*/Format-Serving/odezoo.json"))
    assert len(trained) == 2
    # Both kept the preset's units, though Transform standardized the TFRecord's values by their own spread.
    assert [json.loads(path.read_text())["value_std"] for path in trained] == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.slow
def test_an_ode_rnn_forecaster_trains_on_a_long_format_csv(tmp_path):
    data = write_series_csv(tmp_path / "series.csv")
    root = tmp_path / "run"
    code, stdout, stderr = odezoo_run(root, "--model", "ode_rnn", "--data", f"csv:{data}", "--horizon", "5",
                                      "--epochs", "1", "--mse-threshold", "100")
    assert code == 0, stderr[-3000:]
    assert component_states(stdout)["ZooExampleGen"] == "COMPLETE" and eval_metrics(stdout)["example_count"] == 6
    served = serve_without_odezoo(latest_pushed(root), raw_split(root, "eval") / "*", serve_series)
    assert served["shape"] == [6, 5, 2] and served["padding_ignored"]
    assert np.isfinite(served["mse"]).all()

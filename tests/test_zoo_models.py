"""The ODE-Net classifier, datasets, presets, fine-tuning, saving and export."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def accuracy(model, images, labels):
    return float(np.mean(np.argmax(model.predict(images, batch_size=256, verbose=0), axis=-1) == labels))


def test_digits_splits_are_deterministic_stratified_and_disjoint():
    train_x, train_y = zoo.datasets.digits_arrays("train")
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    assert train_x.shape == (1438, 8, 8, 1) and eval_x.shape == (359, 8, 8, 1)
    assert train_x.dtype == np.float32 and 0.0 <= train_x.min() and train_x.max() <= 1.0
    np.testing.assert_array_equal(zoo.datasets.digits_arrays("eval")[0], eval_x)
    assert np.all(np.bincount(eval_y) >= 35)  # every class in eval, in proportion
    seen = {row.tobytes() for row in train_x}
    assert sum(row.tobytes() in seen for row in eval_x) <= 3  # the raw data has a few duplicate images
    dataset = zoo.datasets.digits("eval", batch_size=100)
    images, labels = next(iter(dataset))
    assert images.shape == (100, 8, 8, 1) and labels.dtype == tf.int32


def test_mnist_from_prepared_tfds_and_clear_error_otherwise(tmp_path):
    import tensorflow_datasets as tfds

    with pytest.raises(ValueError, match="no prepared copy of tensorflow-datasets' 'mnist'.*never downloads"):
        zoo.datasets.mnist("train", data_dir=str(tmp_path))
    with tfds.testing.mock_data(num_examples=12):
        images, labels = next(iter(zoo.datasets.mnist("eval", batch_size=12)))
    assert images.shape == (12, 28, 28, 1) and images.dtype == tf.float32
    assert float(tf.reduce_max(images)) <= 1.0 and labels.dtype == tf.int32


def test_odenet_is_a_functional_model_with_the_papers_shapes():
    model = zoo.ODENetClassifier()
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.get_layer("stem_conv3").output.shape[1:] == (6, 6, 64)  # 28 -> 26 -> 13 -> 6, as odenet_mnist.py
    assert isinstance(model.get_layer("ode_block"), zoo.ODEBlock)
    clone = zoo.ODENetClassifier.from_config(model.get_config())
    assert clone.count_params() == model.count_params()


@pytest.mark.slow
def test_odenet_trains_on_digits_to_90_percent():
    keras.utils.set_random_seed(0)
    train = zoo.datasets.digits("train").shuffle(2048, seed=0).batch(64)
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    model = zoo.ODENetClassifier(input_shape=(8, 8, 1), filters=32, groups=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=LOSS, metrics=["accuracy"])
    history = model.fit(train, epochs=8, verbose=0)
    assert "nfe_forward" in history.history
    assert accuracy(model, eval_x, eval_y) >= 0.90


def test_shipped_preset_scores_97_percent():
    assert "odenet_digits" in zoo.presets.list()
    model = zoo.ODENetClassifier.from_preset("odenet_digits")
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    assert accuracy(model, eval_x, eval_y) >= 0.97
    with pytest.raises(ValueError, match="Unknown preset 'nope'"):
        zoo.ODENetClassifier.from_preset("nope")
    with pytest.raises(ValueError, match="filters would not fit the preset's weights"):
        zoo.ODENetClassifier.from_preset("odenet_digits", filters=8)


@pytest.mark.slow
def test_fine_tune_preset_on_five_classes_in_one_epoch():
    keras.utils.set_random_seed(0)
    model = zoo.ODENetClassifier.from_preset("odenet_digits", num_classes=5)
    preset = zoo.ODENetClassifier.from_preset("odenet_digits")
    np.testing.assert_array_equal(model.get_layer("ode_block").get_weights()[0],
                                  preset.get_layer("ode_block").get_weights()[0])
    assert model.output_shape == (None, 5)
    train_x, train_y = zoo.datasets.digits_arrays("train")
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    keep, keep_eval = train_y < 5, eval_y < 5
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=LOSS, metrics=["accuracy"])
    model.fit(train_x[keep], train_y[keep], epochs=1, batch_size=32, verbose=0)
    assert accuracy(model, eval_x[keep_eval], eval_y[keep_eval]) >= 0.97


_RELOAD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    assert "zoo" not in sys.modules
    loaded = tf.saved_model.load(sys.argv[1])
    images = np.load(sys.argv[2])
    by_images = loaded.signatures["serving_default"](images=tf.constant(images))
    examples = [line for line in open(sys.argv[3], "rb").read().split(b"\\n--\\n") if line]
    by_examples = loaded.signatures["serve_examples"](examples=tf.constant(examples))
    print(json.dumps({"images": by_images["logits"].numpy().tolist(), "examples": by_examples["logits"].numpy().tolist(),
                      "classes": by_images["classes"].numpy().tolist()}))
""")


@pytest.mark.slow
def test_keras_round_trip_and_saved_model_in_a_fresh_process(tmp_path):
    model = zoo.ODENetClassifier.from_preset("odenet_digits")
    eval_x, _ = zoo.datasets.digits_arrays("eval")
    images = eval_x[:16]
    expected = model.predict(images, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(reloaded.predict(images, verbose=0), expected)

    zoo.export_saved_model(model, tmp_path / "saved")
    np.save(tmp_path / "images.npy", images)
    (tmp_path / "examples.bin").write_bytes(b"\n--\n".join(zoo.export.image_example(i) for i in images))
    completed = subprocess.run([sys.executable, "-c", _RELOAD, str(tmp_path / "saved"), str(tmp_path / "images.npy"),
                                str(tmp_path / "examples.bin")], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    served = json.loads(completed.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(np.asarray(served["images"]), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(served["examples"]), expected, rtol=1e-5, atol=1e-5)
    assert served["classes"] == np.argmax(expected, axis=-1).tolist()

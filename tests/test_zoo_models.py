"""The ODE-Net classifier, datasets, presets, fine-tuning, saving and export."""

import json
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

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


def layer_structure(model):
    return [(layer.name, type(layer).__name__, tuple(layer.output.shape)) for layer in model.layers]


def test_from_config_round_trip_keeps_config_structure_and_outputs():
    options = dict(input_shape=(12, 12, 1), num_classes=7, filters=16, groups=4, method="tsit5", rtol=1e-5,
                   atol=1e-6, gradient="adjoint", max_steps=321, min_feature_size=2)
    model = zoo.ODENetClassifier(**options, name="small_odenet")
    assert model.get_config() == dict(options, name="small_odenet", trainable=True)
    saved = json.loads(json.dumps(model.get_config()))  # as a .keras file stores it: tuples become lists
    clone = zoo.ODENetClassifier.from_config(saved)
    assert clone.get_config() == model.get_config()
    assert layer_structure(clone) == layer_structure(model)
    assert clone.get_layer("stem_conv3").output.shape[1:3] == (2, 2)  # 12 -> 10 -> 5 -> 2, down to min_feature_size
    block_options = clone.get_layer("ode_block").solver_options
    assert {key: block_options[key] for key in ("method", "rtol", "atol", "gradient", "max_steps")} == {
        "method": "tsit5", "rtol": 1e-5, "atol": 1e-6, "gradient": "adjoint", "max_steps": 321}
    clone.set_weights(model.get_weights())
    images = np.random.default_rng(0).uniform(size=(3, 12, 12, 1)).astype("float32")
    np.testing.assert_array_equal(clone(images).numpy(), model(images).numpy())


def test_stem_stops_downsampling_at_3x3_and_refuses_smaller_inputs():
    """The ODE block's feature map by input size: the paper's stride-2 stages while the map stays at
    least 3x3, size-keeping 3x3 convolutions after."""
    expected = {28: (6, 6), 13: (5, 5), 8: (3, 3), 6: (4, 4), 5: (3, 3)}
    for size, feature_map in expected.items():
        model = zoo.ODENetClassifier(input_shape=(size, size, 1))
        assert model.get_layer("stem_conv3").output.shape[1:] == feature_map + (64,), size
    assert zoo.ODENetClassifier(input_shape=(28, 8, 3)).get_layer("stem_conv3").output.shape[1:] == (6, 3, 64)
    papers = zoo.ODENetClassifier(input_shape=(8, 8, 1), min_feature_size=zoo.models.odenet.PAPER_MIN_FEATURE_SIZE)
    assert papers.get_layer("stem_conv3").output.shape[1:] == (1, 1, 64)  # 8 -> 6 -> 3 -> 1
    for shape in ((4, 4, 1), (28, 4, 1), (None, None, 1)):
        with pytest.raises(ValueError, match=r"needs a known height and width of at least 5 pixels, so that the "
                                             r"ODE block gets a feature map of at least 3x3"):
            zoo.ODENetClassifier(input_shape=shape)
    with pytest.raises(ValueError, match="group norm cannot split the 48 filters into 32 equal groups; choose "
                                         "groups that divide filters"):
        zoo.ODENetClassifier(filters=48)
    with pytest.raises(ValueError, match="min_feature_size must be at least 1, got 0"):
        zoo.ODENetClassifier(min_feature_size=0)


def test_a_config_saved_before_min_feature_size_keeps_the_papers_stem():
    """model.keras files written before the stem had a minimum size hold configs without it; their
    weights fit the paper's stem (8x8 -> 1x1), which from_config rebuilds."""
    config = zoo.ODENetClassifier(input_shape=(8, 8, 1), filters=32, groups=8).get_config()
    del config["min_feature_size"]
    model = zoo.ODENetClassifier.from_config(config)
    assert model.get_layer("stem_conv3").output.shape[1:] == (1, 1, 32)
    assert model.get_layer("stem_conv3").kernel.shape == (4, 4, 32, 32)


@pytest.mark.slow
def test_default_odenet_trains_on_8x8_digits_to_90_percent():
    """The paper's sizes (64 filters, 32 groups) with compile()'s defaults learn the digits in two
    epochs: the stem leaves the ODE block a 3x3 map, not the paper's 1x1 (0.37 after eight epochs)."""
    keras.utils.set_random_seed(0)
    train = zoo.datasets.digits("train").shuffle(2048, seed=0).batch(32)
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    model = zoo.ODENetClassifier(input_shape=(8, 8, 1))
    model.compile()
    history = model.fit(train, epochs=2, verbose=0)
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
    with pytest.raises(ValueError, match="min_feature_size would not fit the preset's weights"):
        zoo.ODENetClassifier.from_preset("odenet_digits", min_feature_size=1)


def test_compile_defaults_and_explicit_arguments():
    model = zoo.ODENetClassifier(input_shape=(8, 8, 1), filters=8, groups=4)
    model.compile()
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(zoo.models.odenet.FROM_SCRATCH_LEARNING_RATE)
    images, labels = zoo.datasets.digits_arrays("eval")
    logits = model.predict(images[:64], verbose=0)
    result = model.evaluate(images[:64], labels[:64], verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], cross_entropy_of_logits(logits, labels[:64]), rtol=1e-5)
    assert result["accuracy"] == pytest.approx(np.mean(np.argmax(logits, axis=-1) == labels[:64]))
    model.compile(keras.optimizers.SGD(0.5), loss="mse", metrics=["mae"])
    assert isinstance(model.optimizer, keras.optimizers.SGD) and model.loss == "mse"


def cross_entropy_of_logits(logits, labels):
    """The mean cross-entropy of integer labels under softmax(logits), in NumPy."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.mean(log_probabilities[np.arange(len(labels)), labels])


def test_preset_comes_back_compiled_for_fine_tuning_and_returns_logits(tmp_path):
    recipe = zoo.presets.get("odenet_digits")["fine_tuning"]["optimizer"]
    model = zoo.ODENetClassifier.from_preset("odenet_digits")
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(recipe["config"]["learning_rate"])
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    logits = model.predict(eval_x, verbose=0)
    assert logits.min() < 0 and not np.allclose(logits.sum(axis=-1), 1.0)  # logits, not probabilities
    result = model.evaluate(eval_x, eval_y, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], cross_entropy_of_logits(logits, eval_y), rtol=1e-5)
    assert result["accuracy"] == pytest.approx(np.mean(np.argmax(logits, axis=-1) == eval_y))

    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        # Keras warns when it skips compiling a model with its own compile(), or drops an optimizer's state.
        warnings.simplefilter("error")
        reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert float(reloaded.optimizer.learning_rate) == pytest.approx(recipe["config"]["learning_rate"])
    reloaded_result = reloaded.evaluate(eval_x, eval_y, verbose=0, return_dict=True)
    assert reloaded_result["loss"] == pytest.approx(result["loss"])

    new_head = zoo.ODENetClassifier.from_preset("odenet_digits", num_classes=5)
    assert float(new_head.optimizer.learning_rate) == pytest.approx(zoo.models.odenet.FROM_SCRATCH_LEARNING_RATE)


@pytest.mark.slow
def test_an_epoch_of_fine_tuning_with_the_presets_recipe_keeps_its_accuracy():
    keras.utils.set_random_seed(0)
    model = zoo.ODENetClassifier.from_preset("odenet_digits")
    eval_x, eval_y = zoo.datasets.digits_arrays("eval")
    before = accuracy(model, eval_x, eval_y)
    model.fit(zoo.datasets.digits("train").shuffle(2048, seed=0).batch(64), epochs=1, verbose=0)
    assert accuracy(model, eval_x, eval_y) >= before


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
    model.fit(train_x[keep], train_y[keep], epochs=1, batch_size=32, verbose=0)  # as from_preset compiled it
    assert accuracy(model, eval_x[keep_eval], eval_y[keep_eval]) >= 0.97


def test_each_family_registers_its_model_and_presets():
    assert zoo.models.family("odenet").MODEL is zoo.ODENetClassifier
    registered = [preset for family in zoo.models.FAMILIES.values() for preset in family.PRESETS]
    assert sorted(registered) == zoo.presets.list()  # every shipped preset belongs to one family
    assert zoo.models.family_of_preset("odenet_digits") == "odenet"
    model = zoo.models.from_preset("odenet_digits")
    assert type(model) is zoo.ODENetClassifier and model.compiled
    with pytest.raises(ValueError, match="Unknown preset 'nope'; available: odenet_digits"):
        zoo.models.from_preset("nope")
    with pytest.raises(ValueError, match="Unknown model 'resnet'; choose one of: odenet"):
        zoo.models.family("resnet")


def test_the_examples_signature_can_be_the_default(tmp_path):
    model = zoo.ODENetClassifier(input_shape=(8, 8, 1), filters=8, groups=4)
    images = zoo.datasets.digits_arrays("eval")[0][:4]
    zoo.export_saved_model(model, tmp_path / "saved", default_signature="examples")
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    examples = tf.constant([zoo.export.image_example(image) for image in images])
    by_default = loaded.signatures["serving_default"](examples=examples)["logits"].numpy()
    by_images = loaded.signatures["serve_images"](images=tf.constant(images))["logits"].numpy()
    np.testing.assert_allclose(by_default, model.predict(images, verbose=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(by_default, by_images)
    with pytest.raises(ValueError, match="default_signature must be one of \\('images', 'examples'\\), got 'pixels'"):
        zoo.export_saved_model(model, tmp_path / "other", default_signature="pixels")


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

"""zoo.datasets' densities: FFJORD's toy shapes (seeded, at their scales, entropies that match the
closed forms) and the dequantized, logit-transformed digits with their log-Jacobian."""

import math

import numpy as np
import pytest
from scipy.special import logsumexp

import zoo


@pytest.mark.parametrize("name", sorted(zoo.datasets.TOY_DENSITIES))
def test_toy_density_is_seeded_finite_and_2d(name):
    points = zoo.datasets.toy_density(name, 500, seed=3)
    assert points.shape == (500, 2) and points.dtype == np.float32
    assert np.all(np.isfinite(points)) and 0.3 < points.std() < 5
    np.testing.assert_array_equal(points, zoo.datasets.toy_density(name, 500, seed=3))
    assert not np.array_equal(points, zoo.datasets.toy_density(name, 500, seed=4))


def test_eight_gaussians_entropy_matches_the_mixture_closed_form():
    points = zoo.datasets.toy_density("8gaussians", 200_000, seed=0).astype(np.float64)
    angles = np.arange(8) * np.pi / 4
    centers = 4 * np.stack([np.cos(angles), np.sin(angles)], 1) / 1.414
    std = 0.5 / 1.414
    squared = np.sum((points[:, None] - centers[None]) ** 2, -1)
    log_density = logsumexp(-squared / (2 * std**2), axis=1) - math.log(8 * 2 * math.pi * std**2)
    assert -log_density.mean() == pytest.approx(zoo.datasets.TOY_ENTROPY["8gaussians"], abs=0.01)
    assert zoo.datasets.TOY_ENTROPY["8gaussians"] == pytest.approx(2.834, abs=0.005)  # the figure FFJORD's readers quote


def test_checkerboard_is_uniform_on_its_eight_squares():
    points = zoo.datasets.toy_density("checkerboard", 80_000, seed=0)
    cells = np.floor(points / 2).astype(int)  # squares of side 2
    assert np.all((cells[:, 0] + cells[:, 1]) % 2 == 0) and np.all(np.abs(points) <= 4)
    _, counts = np.unique(cells, axis=0, return_counts=True)
    assert len(counts) == 8 and np.all(np.abs(counts / 10_000 - 1) < 0.05)
    assert zoo.datasets.TOY_ENTROPY["checkerboard"] == pytest.approx(math.log(32))


def test_toy_density_refuses_bad_requests_by_name():
    with pytest.raises(ValueError, match="unknown density 'gaussians'.*8gaussians"):
        zoo.datasets.toy_density("gaussians")
    with pytest.raises(ValueError, match="positive integer, got 0"):
        zoo.datasets.toy_density("moons", 0)
    with pytest.raises(ValueError, match="multiple of 5"):
        zoo.datasets.toy_density("pinwheel", 12)


def test_digits_density_dequantizes_each_pixel_within_its_level():
    x, log_det = zoo.datasets.digits_density("eval", seed=1)
    images, _ = zoo.datasets.digits_arrays("eval")
    assert x.shape == (len(images), 64) and log_det.shape == (len(images),)
    squeezed = 1 / (1 + np.exp(-x.astype(np.float64)))
    unit = (squeezed - 0.05) / 0.9
    np.testing.assert_array_equal(np.floor(unit * 17), np.rint(images.reshape(len(images), -1) * 16))
    train, _ = zoo.datasets.digits_density("train", seed=1)
    assert len(train) + len(x) == 1797


def test_digits_density_log_det_is_the_logit_transforms_jacobian():
    x, log_det = zoo.datasets.digits_density("eval", seed=0)
    unit = (1 / (1 + np.exp(-x.astype(np.float64))) - 0.05) / 0.9
    step = 1e-6
    forward = lambda u: np.log((0.05 + 0.9 * u) / (1 - 0.05 - 0.9 * u))  # noqa: E731
    derivative = (forward(unit + step) - forward(unit - step)) / (2 * step)
    np.testing.assert_allclose(log_det, np.log(derivative).sum(1), rtol=1e-4)


def test_bits_per_dim_of_the_uniform_pixel_density_is_log2_of_the_levels():
    x, log_det = zoo.datasets.digits_density("eval")
    # A model whose density is uniform on the [0, 1] pixels has, in logit space, log p = -log_det.
    assert zoo.datasets.bits_per_dim(-log_det, log_det) == pytest.approx(math.log2(17), rel=1e-6)

"""Densities for the continuous normalizing flow: FFJORD's 2-D toy distributions (Grathwohl et al.
2019, ``lib/toy_data.py``: the same shapes, scales and noise) drawn from a seeded generator, and
scikit-learn's 8x8 digits as a real 64-dimensional density (uniformly dequantized, then RealNVP's
logit transform, as FFJORD treats images), with the log-Jacobian needed to report bits per dimension."""

import math

import numpy as np

from zoo.datasets.images import SPLITS, digits_arrays

# Distinct levels of a digits pixel (scikit-learn's images hold the integers 0..16).
DIGITS_LEVELS = 17
# RealNVP's logit transform squeezes [0, 1] into [alpha, 1 - alpha] first, so no value maps to +-inf.
LOGIT_ALPHA = 0.05

_EIGHT_GAUSSIANS_SCALE, _EIGHT_GAUSSIANS_STD = 4.0, 0.5
_EIGHT_GAUSSIANS_SHRINK = 1.414  # FFJORD divides the points by 1.414 (not sqrt 2); kept for equal entropy


def _swissroll(n, rng):
    from sklearn.datasets import make_swiss_roll

    points = make_swiss_roll(n_samples=n, noise=1.0, random_state=rng.integers(2**31))[0]
    return points[:, [0, 2]] / 5


def _circles(n, rng):
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n, factor=0.5, noise=0.08, random_state=rng.integers(2**31))[0] * 3


def _moons(n, rng):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n, noise=0.1, random_state=rng.integers(2**31))[0] * 2 + np.array([-1.0, -0.2])


def _rings(n, rng):
    sizes = [n // 4] * 3
    sizes = [n - sum(sizes)] + sizes  # the innermost ring takes the remainder
    radii = (0.25, 0.5, 0.75, 1.0)
    rings = [radius * np.stack([np.cos(angles), np.sin(angles)], 1)
             for radius, size in zip(radii, sizes)
             for angles in [np.linspace(0, 2 * np.pi, size, endpoint=False)]]
    points = rng.permutation(np.concatenate(rings) * 3.0)
    return points + rng.normal(scale=0.08, size=points.shape)


def _eight_gaussians(n, rng):
    angles = np.arange(8) * (np.pi / 4)
    centers = _EIGHT_GAUSSIANS_SCALE * np.stack([np.cos(angles), np.sin(angles)], 1)
    points = centers[rng.integers(8, size=n)] + rng.standard_normal((n, 2)) * _EIGHT_GAUSSIANS_STD
    return points / _EIGHT_GAUSSIANS_SHRINK


def _pinwheel(n, rng):
    arms, per_arm, rate = 5, n // 5, 0.25
    if per_arm * arms != n:
        raise ValueError(f"toy_density('pinwheel'): n must be a multiple of {arms} (its arms), got {n}.")
    features = rng.standard_normal((n, 2)) * np.array([0.3, 0.1])
    features[:, 0] += 1.0
    arm = np.repeat(np.arange(arms), per_arm)
    angles = np.linspace(0, 2 * np.pi, arms, endpoint=False)[arm] + rate * np.exp(features[:, 0])
    cos, sin = np.cos(angles), np.sin(angles)
    rotated = np.stack([features[:, 0] * cos + features[:, 1] * sin, -features[:, 0] * sin + features[:, 1] * cos], 1)
    return 2 * rng.permutation(rotated)


def _two_spirals(n, rng):
    if n % 2:
        raise ValueError(f"toy_density('2spirals'): n must be even (two arms of n / 2), got {n}.")
    turns = np.sqrt(rng.random((n // 2, 1))) * 540 * (2 * np.pi) / 360
    x = -np.cos(turns) * turns + rng.random((n // 2, 1)) * 0.5
    y = np.sin(turns) * turns + rng.random((n // 2, 1)) * 0.5
    arm = np.hstack([x, y])
    return np.vstack([arm, -arm]) / 3 + rng.standard_normal((n, 2)) * 0.1


def _checkerboard(n, rng):
    x1 = rng.random(n) * 4 - 2
    x2 = rng.random(n) - rng.integers(0, 2, n) * 2 + np.floor(x1) % 2
    return np.stack([x1, x2], 1) * 2


TOY_DENSITIES = {"8gaussians": _eight_gaussians, "checkerboard": _checkerboard, "moons": _moons, "circles": _circles,
                 "rings": _rings, "swissroll": _swissroll, "pinwheel": _pinwheel, "2spirals": _two_spirals}

# Differential entropies in nats, the lowest NLL any model can reach: 8gaussians' components barely
# overlap (log 8 plus one Gaussian's), the checkerboard is uniform on 8 squares of side 2.
TOY_ENTROPY = {
    "8gaussians": math.log(8) + math.log(2 * math.pi * math.e * (_EIGHT_GAUSSIANS_STD / _EIGHT_GAUSSIANS_SHRINK) ** 2),
    "checkerboard": math.log(32.0),
}


def toy_density(name, n=1000, seed=0):
    """``n`` points (float32, shape (n, 2)) of FFJORD's toy density ``name``; the same seed gives the
    same points on every machine (draw train and eval sets with different seeds)."""
    if name not in TOY_DENSITIES:
        raise ValueError(f"toy_density: unknown density {name!r}; choose one of {sorted(TOY_DENSITIES)}.")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"toy_density({name!r}): n must be a positive integer, got {n!r}.")
    return np.asarray(TOY_DENSITIES[name](int(n), np.random.default_rng(seed)), np.float32)


def digits_density(split="train", seed=0, alpha=LOGIT_ALPHA):
    """scikit-learn's digits as a 64-dimensional density in logit space: each pixel's integer level
    plus uniform noise, divided by the 17 levels (uniform dequantization), squeezed into
    [alpha, 1 - alpha] and mapped through the logit. Returns ``(x, log_det)``: x (n, 64) float32, and
    per image log |d logit-space / d dequantized [0, 1] pixels|, which ``bits_per_dim`` adds back.
    The split is ``digits_arrays``' (stratified, deterministic); ``seed`` draws the dequantization noise."""
    if split not in SPLITS:
        raise ValueError(f"digits_density: unknown split {split!r}; choose one of {SPLITS}.")
    if not 0 < alpha < 0.5:
        raise ValueError(f"digits_density: alpha must be in (0, 0.5), got {alpha!r}.")
    images, _ = digits_arrays(split)
    levels = np.rint(images.reshape(len(images), -1) * (DIGITS_LEVELS - 1))
    unit = (levels + np.random.default_rng(seed).random(levels.shape)) / DIGITS_LEVELS
    squeezed = alpha + (1 - 2 * alpha) * unit
    x = np.log(squeezed) - np.log1p(-squeezed)
    log_det = np.sum(math.log(1 - 2 * alpha) - np.log(squeezed) - np.log1p(-squeezed), axis=1)
    return x.astype(np.float32), log_det.astype(np.float32)


def bits_per_dim(log_prob, log_det, dim=64, levels=DIGITS_LEVELS):
    """Bits per dimension of dequantized digits from a model's log-density in logit space: the
    log-Jacobian turns it into the density of the [0, 1] pixels, and each of the ``levels`` bins of
    width 1 / levels turns that into a probability of the integer image."""
    log_prob_unit = np.asarray(log_prob, np.float64) + np.asarray(log_det, np.float64)
    return float(np.mean(-(log_prob_unit - dim * math.log(levels)) / (dim * math.log(2))))

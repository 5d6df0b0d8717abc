"""Toy data sets: exact geometry without noise, sizes, labels, seeding and noise scale."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from nn.data import make_circles, make_moons, make_spirals, make_xor

GENERATORS = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_data_is_pure_python_lists_of_n_samples(name):
    X, y = GENERATORS[name](n=101, noise=0.1, seed=0)
    assert len(X) == len(y) == 101
    assert all(type(row) is list and len(row) == 2 for row in X)
    assert all(type(v) is float for row in X for v in row)
    assert all(type(label) is int for label in y)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_data_same_seed_same_data_other_seed_other_data(name):
    make = GENERATORS[name]
    assert make(n=50, seed=4) == make(n=50, seed=4)
    assert make(n=50, seed=4) != make(n=50, seed=5)


@pytest.mark.parametrize(
    "make, counts",
    [
        (lambda: make_moons(n=101), {0: 51, 1: 50}),
        (lambda: make_circles(n=100), {0: 50, 1: 50}),
        (lambda: make_spirals(n=100, classes=3), {0: 34, 1: 33, 2: 33}),
        (lambda: make_spirals(n=40, classes=5), {k: 8 for k in range(5)}),
        (lambda: make_xor(n=102), {0: 51, 1: 51}),
    ],
)
def test_data_splits_n_evenly_between_labels(make, counts):
    assert Counter(make()[1]) == counts


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    X, y = make_moons(n=60, noise=0.0)
    for (a, b), label in zip(X, y, strict=True):
        if label == 0:  # upper moon: the unit circle, y >= 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower moon: unit circle around (1, 0.5), y <= 0.5
            assert math.hypot(a - 1, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_make_circles_without_noise_has_radii_one_and_factor():
    X, y = make_circles(n=40, noise=0.0, factor=0.3)
    radii = {(label, round(math.hypot(a, b), 12)) for (a, b), label in zip(X, y, strict=True)}
    assert radii == {(0, 1.0), (1, 0.3)}


def test_make_spirals_without_noise_follows_angle_four_r_per_arm():
    X, y = make_spirals(n=30, classes=3, noise=0.0)
    for (a, b), label in zip(X, y, strict=True):
        radius = math.hypot(a, b)
        angle = 2 * math.pi * label / 3 + 4 * radius
        assert (a, b) == pytest.approx((radius * math.cos(angle), radius * math.sin(angle)))
        assert 0 < radius <= 1 + 1e-12


def test_make_xor_without_noise_labels_corners_by_xor():
    X, y = make_xor(n=20, noise=0.0)
    for (a, b), label in zip(X, y, strict=True):
        assert (a, b) in {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)}
        assert label == int(a) ^ int(b)


def test_make_xor_noise_has_the_requested_standard_deviation():
    X, _ = make_xor(n=4000, noise=0.05, seed=1)
    offsets = [v - round(v) for row in X for v in row]  # noise 0.05 never reaches 0.5
    std = math.sqrt(sum(o * o for o in offsets) / len(offsets))
    assert std == pytest.approx(0.05, rel=0.03)


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_moons(n=1),
        lambda: make_moons(n=10, noise=-0.1),
        lambda: make_circles(n=10, factor=1.5),
        lambda: make_spirals(n=10, classes=1),
        lambda: make_xor(n=3),
        lambda: make_xor(n=10.5),
    ],
)
def test_data_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()

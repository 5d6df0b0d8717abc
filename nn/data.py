"""Toy 2-D classification data sets in pure Python, seeded: moons, circles, spirals, xor.

Each returns `(X, y)`: X a list of [x0, x1] float pairs, y a list of int labels, shuffled.
Noise is Gaussian with standard deviation `noise`, added to each coordinate.
"""

from __future__ import annotations

import math
import random


def _check(n: int, noise: float, groups: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < groups:
        raise ValueError(f"n must be an int >= {groups} (one sample per group), got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")


def _group_sizes(n: int, groups: int) -> list[int]:
    # n samples split as evenly as possible; the first groups take the remainder.
    return [n // groups + (1 if g < n % groups else 0) for g in range(groups)]


def _linspace(start: float, stop: float, count: int, endpoint: bool = True) -> list[float]:
    intervals = (count - 1 if endpoint else count) or 1
    return [start + (stop - start) * i / intervals for i in range(count)]


def _finish(points: list[tuple[float, float, int]], noise: float, rng: random.Random):
    rng.shuffle(points)
    X = [[x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)] for x0, x1, _ in points]
    y = [label for _, _, label in points]
    return X, y


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int | None = 0
) -> tuple[list[list[float]], list[int]]:
    """Two interleaved half circles (as sklearn's make_moons): y = 0 upper, 1 lower."""
    _check(n, noise, 2)
    outer, inner = _group_sizes(n, 2)
    points = [(math.cos(t), math.sin(t), 0) for t in _linspace(0.0, math.pi, outer)]
    points += [(1 - math.cos(t), 0.5 - math.sin(t), 1) for t in _linspace(0.0, math.pi, inner)]
    return _finish(points, noise, random.Random(seed))


def make_circles(
    n: int = 100, noise: float = 0.1, seed: int | None = 0, factor: float = 0.5
) -> tuple[list[list[float]], list[int]]:
    """A circle of radius 1 (y = 0) around one of radius `factor` (y = 1)."""
    _check(n, noise, 2)
    if not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")
    points = []
    for label, (radius, count) in enumerate(zip((1.0, factor), _group_sizes(n, 2), strict=True)):
        angles = _linspace(0.0, 2 * math.pi, count, endpoint=False)
        points += [(radius * math.cos(t), radius * math.sin(t), label) for t in angles]
    return _finish(points, noise, random.Random(seed))


def make_spirals(
    n: int = 100, classes: int = 3, noise: float = 0.1, seed: int | None = 0
) -> tuple[list[list[float]], list[int]]:
    """`classes` arms spiralling out from the origin, n split evenly; y in 0..classes-1.

    Arm k at radius r in (0, 1] has angle 2 pi k / classes + 4 r (as in CS231n's spirals).
    """
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an int >= 2, got {classes!r}")
    _check(n, noise, classes)
    points = []
    for label, count in enumerate(_group_sizes(n, classes)):
        for i in range(count):
            radius = (i + 1) / count
            angle = 2 * math.pi * label / classes + 4 * radius
            points.append((radius * math.cos(angle), radius * math.sin(angle), label))
    return _finish(points, noise, random.Random(seed))


def make_xor(
    n: int = 100, noise: float = 0.1, seed: int | None = 0
) -> tuple[list[list[float]], list[int]]:
    """Clusters at the four corners (a, b) of the unit square, y = a xor b."""
    _check(n, noise, 4)
    corners = [(0, 0), (0, 1), (1, 0), (1, 1)]
    points = []
    for (a, b), count in zip(corners, _group_sizes(n, 4), strict=True):
        points += [(float(a), float(b), a ^ b)] * count
    return _finish(points, noise, random.Random(seed))

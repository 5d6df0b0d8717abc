"""Helpers for comparing scalargrad with PyTorch float64: derivatives of any order, by torch."""

from __future__ import annotations

import math

from tests.helpers import require

torch = require("torch")


def torch_derivatives(fn, point: list[float], order: int) -> dict[tuple[int, ...], float]:
    """Every partial derivative of `fn` at `point` up to `order`, keyed by input indices.

    `fn` takes torch scalars; the key (0, 1) is d/dx1 d/dx0. A derivative torch reports as
    unused, or as not depending on the inputs, is 0.0.
    """
    inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    frontier = {(): fn(*inputs)}
    results = {}
    for _ in range(order):
        next_frontier = {}
        for key, value in frontier.items():
            if not (torch.is_tensor(value) and value.requires_grad):
                grads = [None] * len(inputs)
            else:
                grads = torch.autograd.grad(value, inputs, create_graph=True, allow_unused=True)
            for index, g in enumerate(grads):
                g = torch.zeros((), dtype=torch.float64) if g is None else g
                next_frontier[key + (index,)] = g
                results[key + (index,)] = g.item()
        frontier = next_frontier
    return results


def ours_derivatives(fn, point: list[float], order: int) -> dict[tuple[int, ...], float]:
    """The same table from scalargrad's `grad(..., create_graph=True)`."""
    from autograd import Value, grad

    inputs = [Value(x) for x in point]
    frontier = {(): fn(*inputs)}
    results = {}
    for _ in range(order):
        next_frontier = {}
        for key, value in frontier.items():
            grads = grad(value, inputs, create_graph=True)
            for index, g in enumerate(grads):
                next_frontier[key + (index,)] = g
                results[key + (index,)] = g.data
        frontier = next_frontier
    return results


def close(a: float, b: float, rel: float = 1e-10, abs_: float = 1e-12) -> bool:
    """Equal within tolerance, with nan equal to nan and infinities equal when signs match."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))

"""The worked 2-2-1 example of the backprop lesson: every hand-derived formula against the engine.

Network: h1 = w11 x1 + w12 x2 + b1, h2 = w21 x1 + w22 x2 + b2, y = w31 h1 + w32 h2 + b3, and a
squared-error loss L = (y - t)**2 / 2, so dL/dy = y - t.
"""

from __future__ import annotations

import pytest

from autograd import Value
from nn.seed_example import LEARNING_RATE, START, TARGET, forward, hand_gradients


def test_seed_example_every_hand_formula_matches_backward():
    params = {name: Value(value, label=name) for name, value in START.items()}
    h1, h2, y, loss = forward(params)
    loss.backward()
    expected = hand_gradients(START)
    for name in START:
        assert params[name].grad == pytest.approx(expected[name], rel=1e-14), name
    assert h1.grad == pytest.approx(expected["h1"], rel=1e-14)
    assert h2.grad == pytest.approx(expected["h2"], rel=1e-14)
    assert y.grad == pytest.approx(forward(START)[2] - TARGET, rel=1e-14)


def test_seed_example_one_gradient_descent_step_lowers_the_loss():
    params = {name: Value(value) for name, value in START.items()}
    *_, loss = forward(params)
    loss.backward()
    for p in params.values():  # w <- w - alpha * dL/dw
        p.data -= LEARNING_RATE * p.grad
    expected = {
        n: v - LEARNING_RATE * g
        for (n, v), g in zip(START.items(), (hand_gradients(START)[n] for n in START), strict=True)
    }
    for name, p in params.items():
        assert p.data == pytest.approx(expected[name], rel=1e-14)
    assert forward(expected)[3] < forward(START)[3]

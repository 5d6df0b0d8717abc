"""Every op in the rule table against PyTorch float64: values and derivatives to third order."""

from __future__ import annotations

import math

import pytest

from autograd import Value, grad
from autograd.ops import OPS
from tests.helpers import require

torch = require("torch")
F = torch.nn.functional

from tests.torch_oracle import close, ours_derivatives, torch_derivatives  # noqa: E402

# op name -> (ours on Values/numbers, torch on tensors/numbers, points (x,) or (x, y))
# Points sit inside each op's domain and include the kinks (relu and abs at 0), where the
# derivative is a convention: PyTorch's, which we follow.
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, [-1.5, 0.0, 2.25]),
    "abs": (abs, torch.abs, [-1.5, 0.0, 2.25]),
    "exp": (Value.exp, torch.exp, [-3.0, 0.0, 1.7, 700.0]),
    "log": (Value.log, torch.log, [1e-6, 0.3, 1.0, 12.5]),
    "sqrt": (Value.sqrt, torch.sqrt, [1e-8, 0.3, 4.0]),
    "tanh": (Value.tanh, torch.tanh, [-1000.0, -2.0, 0.0, 0.5, 19.0, 1000.0]),
    "sigmoid": (Value.sigmoid, torch.sigmoid, [-1000.0, -30.0, -1.2, 0.0, 3.3, 1000.0]),
    "relu": (Value.relu, torch.relu, [-1.2, 0.0, 3.3]),
    "leaky_relu": (
        lambda x: x.leaky_relu(0.2),
        lambda x: F.leaky_relu(x, 0.2),
        [-1.2, 0.0, 3.3],
    ),
    # PyTorch's softplus returns x itself above its threshold 20; ours is exact there, so the
    # oracle points stay below it and the ±1000 cases are checked against the formula.
    "softplus": (Value.softplus, F.softplus, [-1000.0, -30.0, -1.2, 0.0, 3.3, 19.0]),
    "sin": (Value.sin, torch.sin, [-2.0, 0.0, 0.7, 100.0]),
    "cos": (Value.cos, torch.cos, [-2.0, 0.0, 0.7, 100.0]),
}

BINARY = {
    "add": (lambda x, y: x + y, [(1.5, -2.25), (0.0, 3.0)]),
    "sub": (lambda x, y: x - y, [(1.5, -2.25), (0.0, 3.0)]),
    "mul": (lambda x, y: x * y, [(1.5, -2.25), (0.0, 3.0)]),
    "div": (lambda x, y: x / y, [(1.5, -2.25), (0.0, 3.0), (-7.0, 1e-3)]),
    # x ** y: positive bases with any exponent; negative bases with integer exponents
    "pow": (lambda x, y: x**y, [(1.5, -2.25), (2.0, 3.0), (0.3, 0.5), (-1.7, 3.0), (-2.0, -2.0)]),
}


def unary_cases() -> list:
    return [
        pytest.param(ours, theirs, x, id=f"{name}({x})")
        for name, (ours, theirs, points) in UNARY.items()
        for x in points
    ]


def binary_cases() -> list:
    """Each binary op with a Value on both sides, and a number on either side."""
    sides = {"both": "V{x},V{y}", "left": "V{x},{y}", "right": "{x},V{y}"}
    return [
        pytest.param(fn, x, y, side, id=f"{name}({label.format(x=x, y=y)})")
        for name, (fn, points) in BINARY.items()
        for x, y in points
        for side, label in sides.items()
    ]


def test_every_op_has_an_oracle_test():
    """Guard: adding an op to the table without a PyTorch case here fails."""
    assert set(OPS) == set(UNARY) | set(BINARY)


@pytest.mark.parametrize("ours, theirs, x", unary_cases())
def test_unary_op_matches_torch_to_third_order(ours, theirs, x):
    assert close(ours(Value(x)).data, theirs(torch.tensor(x, dtype=torch.float64)).item())
    expected = torch_derivatives(theirs, [x], order=3)
    got = ours_derivatives(ours, [x], order=3)
    for key, value in expected.items():
        assert close(got[key], value), f"d{len(key)} at x={x}: ours {got[key]}, torch {value}"


@pytest.mark.parametrize("fn, x, y, side", binary_cases())
def test_binary_op_matches_torch_to_third_order(fn, x, y, side):
    # Only the Value operands are inputs; the other one is a plain number, as a user writes it.
    if side == "both":
        point, bind = [x, y], lambda a, b: fn(a, b)
    elif side == "left":
        point, bind = [x], lambda a: fn(a, y)
    else:
        point, bind = [y], lambda b: fn(x, b)
    expected = torch_derivatives(bind, point, order=3)
    got = ours_derivatives(bind, point, order=3)
    assert close(
        bind(*[Value(p) for p in point]).data,
        bind(*[torch.tensor(p, dtype=torch.float64) for p in point]).item(),
    )
    for key, value in expected.items():
        assert close(got[key], value), f"derivative {key}: ours {got[key]}, torch {value}"


@pytest.mark.parametrize("fn, x, y, side", binary_cases())
def test_binary_op_first_order_float_path_matches_torch(fn, x, y, side):
    """The fast path (local grads stored as floats at forward time), not just create_graph."""
    a, b = Value(x), Value(y)
    out = fn(a, b) if side == "both" else fn(a, y) if side == "left" else fn(x, b)
    out.backward()
    ta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    tout = fn(ta, tb) if side == "both" else fn(ta, y) if side == "left" else fn(x, tb)
    tout.backward()
    if side != "right":
        assert close(a.grad, ta.grad.item())
    if side != "left":
        assert close(b.grad, tb.grad.item())


@pytest.mark.parametrize("ours, theirs, x", unary_cases())
def test_unary_op_local_grad_matches_torch(ours, theirs, x):
    out = ours(Value(x))
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(theirs(tx), [tx])
    assert len(out.local_grads) == 1
    assert close(out.local_grads[0], expected.item())


def test_pow_at_zero_base_follows_torch_limits():
    """0 ** y: d/dx is inf for 0 < y < 1, y**0 rules at 0, and d/dy is 0 (PyTorch's mask)."""
    for y in (0.5, 1.0, 2.0, 0.0):
        x = Value(0.0)
        tx = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        (expected,) = torch.autograd.grad(tx**y, [tx])
        assert close(grad(x**y, [x])[0], expected.item()), y
    e = Value(2.5)
    te = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(0.0**te, [te])
    assert grad(0.0**e, [e])[0] == expected.item() == 0.0


def test_pow_value_exponent_of_negative_base_is_nan_like_torch():
    e = Value(2.0)
    out = (-3.0) ** e
    assert out.data == 9.0
    assert math.isnan(grad(out, [e])[0])
    te = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad((-3.0) ** te, [te])
    assert math.isnan(expected.item())


@pytest.mark.parametrize("x", [-1000.0, -50.0, 50.0, 1000.0])
def test_softplus_is_exact_far_from_zero(x):
    """Beyond PyTorch's threshold: log(1 + e**x) computed without overflow, slope sigmoid(x)."""
    out = Value(x).softplus()
    expected = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    assert out.data == pytest.approx(expected, rel=1e-15, abs=0.0)
    slope = math.exp(x) / (1 + math.exp(x)) if x < 0 else 1 / (1 + math.exp(-x))
    assert out.local_grads[0] == pytest.approx(slope, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("y", [0.5, 1.5, 2.5])
def test_pow_at_zero_base_create_graph_matches_torch(y):
    """Up to the first singular order: create_graph at x = 0 gives PyTorch's limits, no error."""
    order = 1 + int(y)  # the order at which the derivative first becomes inf
    expected = torch_derivatives(lambda x: x**y, [0.0], order=order)
    got = ours_derivatives(lambda x: x**y, [0.0], order=order)
    assert got == expected


def test_pow_zero_to_the_zero_derivatives_match_torch():
    expected = torch_derivatives(lambda x, z: x**z, [0.0, 0.0], order=1)
    got = ours_derivatives(lambda x, z: x**z, [0.0, 0.0], order=1)
    assert got == expected == {(0,): 0.0, (1,): 0.0}

"""The worked 2-2-1 network of the backprop lesson: its numbers, forward pass and hand gradients.

Shared by `scalargrad demo` and tests/test_seed_example.py, so both check the same formulas.
"""

from __future__ import annotations

from autograd import Value

START = {
    "w11": 0.15, "w12": -0.20, "b1": 0.35,
    "w21": 0.25, "w22": 0.30, "b2": -0.10,
    "w31": 0.40, "w32": -0.45, "b3": 0.60,
}  # fmt: skip
X1, X2, TARGET = 0.05, 0.10, 0.01
LEARNING_RATE = 0.5

# The hand-derived formula behind each entry of `hand_gradients`, as the demo prints it.
FORMULAS = {
    "w11": "(y - t) w31 x1",
    "w12": "(y - t) w31 x2",
    "b1": "(y - t) w31",
    "w21": "(y - t) w32 x1",
    "w22": "(y - t) w32 x2",
    "b2": "(y - t) w32",
    "w31": "(y - t) h1",
    "w32": "(y - t) h2",
    "b3": "(y - t)",
}


def forward(p: dict, x1=X1, x2=X2, target=TARGET):
    """The lesson's forward pass (h1, h2, y, loss); works on floats and on Values alike."""
    h1 = p["w11"] * x1 + p["w12"] * x2 + p["b1"]
    h2 = p["w21"] * x1 + p["w22"] * x2 + p["b2"]
    y = p["w31"] * h1 + p["w32"] * h2 + p["b3"]
    loss = (y - target) ** 2 / 2
    return h1, h2, y, loss


def hand_gradients(p: dict) -> dict:
    """The lesson's formulas on floats: dL/d(each parameter), and dL/dh1, dL/dh2."""
    h1, h2, y, _ = forward(p)
    dL_dy = y - TARGET
    dL_dh1 = dL_dy * p["w31"]
    dL_dh2 = dL_dy * p["w32"]
    return {
        "w31": dL_dy * h1,
        "w32": dL_dy * h2,
        "b3": dL_dy,
        "w11": dL_dh1 * X1,
        "w12": dL_dh1 * X2,
        "w21": dL_dh2 * X1,
        "w22": dL_dh2 * X2,
        "b1": dL_dh1,
        "b2": dL_dh2,
        "h1": dL_dh1,
        "h2": dL_dh2,
    }


def build_seed_network() -> tuple[dict[str, Value], Value]:
    """The network as labelled Values (x1, x2, t, w11..b3, h1, h2, y, L); returns (params, L)."""
    params = {name: Value(value, label=name) for name, value in START.items()}
    inputs = Value(X1, label="x1"), Value(X2, label="x2"), Value(TARGET, label="t")
    h1, h2, y, loss = forward(params, *inputs)
    for node, label in ((h1, "h1"), (h2, "h2"), (y, "y"), (loss, "L")):
        node.label = label
    return params, loss

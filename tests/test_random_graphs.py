"""Random expression graphs (every op, reused nodes, diamonds, constants) against PyTorch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, grad
from tests.helpers import require

torch = require("torch")
F = torch.nn.functional

from tests.torch_oracle import close  # noqa: E402

# Each step combines earlier nodes with one op, wrapped so any input stays in the op's domain;
# the wrappers are ops too, so the graphs mix all of them. (name, arity, ours, torch)
STEPS = [
    ("add", 2, lambda a, b: a + b, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b, lambda a, b: a - b),
    ("mul", 2, lambda a, b: a * b, lambda a, b: a * b),
    ("div", 2, lambda a, b: a / (abs(b) + 0.5), lambda a, b: a / (torch.abs(b) + 0.5)),
    (
        "pow",
        2,
        lambda a, b: (a.sigmoid() + 0.5) ** b.tanh(),
        lambda a, b: (torch.sigmoid(a) + 0.5) ** torch.tanh(b),
    ),
    ("pow_const", 1, lambda a: a**3, lambda a: a**3),
    ("rpow_const", 1, lambda a: 1.5 ** a.tanh(), lambda a: 1.5 ** torch.tanh(a)),
    ("neg", 1, lambda a: -a, lambda a: -a),
    ("abs", 1, abs, torch.abs),
    ("exp", 1, lambda a: a.tanh().exp(), lambda a: torch.exp(torch.tanh(a))),
    ("log", 1, lambda a: (a * a + 0.1).log(), lambda a: torch.log(a * a + 0.1)),
    ("sqrt", 1, lambda a: (a * a + 0.1).sqrt(), lambda a: torch.sqrt(a * a + 0.1)),
    ("tanh", 1, Value.tanh, torch.tanh),
    ("sigmoid", 1, Value.sigmoid, torch.sigmoid),
    ("relu", 1, Value.relu, torch.relu),
    ("leaky_relu", 1, lambda a: a.leaky_relu(0.1), lambda a: F.leaky_relu(a, 0.1)),
    ("softplus", 1, Value.softplus, F.softplus),
    ("sin", 1, Value.sin, torch.sin),
    ("cos", 1, Value.cos, torch.cos),
    ("rsub_const", 1, lambda a: 2.0 - a, lambda a: 2.0 - a),
    ("rdiv_const", 1, lambda a: 1.0 / (a * a + 1.0), lambda a: 1.0 / (a * a + 1.0)),
]

leaf_values = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda x: abs(x) > 1e-3)


@st.composite
def programs(draw):
    """A list of leaf values and a list of steps (op index, operand indices into the nodes)."""
    leaves = draw(st.lists(leaf_values, min_size=1, max_size=4))
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        available = len(leaves) + len(steps)
        op = draw(st.integers(0, len(STEPS) - 1))
        # Operands lean towards recent nodes (deep graphs) but may pick any (reuse, diamonds).
        operands = [draw(st.integers(0, available - 1)) for _ in range(STEPS[op][1])]
        steps.append((op, operands))
    return leaves, steps


def run(program, make, column: int):
    leaves, steps = program
    nodes = [make(x) for x in leaves]
    inputs = list(nodes)
    for op, operands in steps:
        nodes.append(STEPS[op][column](*[nodes[i] for i in operands]))
    # Sum every node so that reused and dangling nodes all reach the output.
    total = nodes[0]
    for node in nodes[1:]:
        total = total + node
    return inputs, total


def run_both(program):
    """The program on scalargrad Values and on PyTorch float64 scalars."""
    as_tensor = lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True)  # noqa: E731
    return run(program, Value, 2), run(program, as_tensor, 3)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(programs())
def test_random_graph_gradients_match_torch(program):
    (inputs, out), (t_inputs, t_out) = run_both(program)
    assert close(out.data, t_out.item())
    expected = torch.autograd.grad(t_out, t_inputs, allow_unused=True)
    got = grad(out, inputs)
    for g, e in zip(got, expected, strict=True):
        assert close(g, 0.0 if e is None else e.item(), rel=1e-9, abs_=1e-11)
    # backward() accumulates the same numbers into .grad
    out.backward()
    for leaf, g in zip(inputs, got, strict=True):
        assert close(leaf.grad, g, rel=1e-12, abs_=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(programs())
def test_random_graph_second_derivatives_match_torch(program):
    (inputs, out), (t_inputs, t_out) = run_both(program)
    first = grad(out, inputs, create_graph=True)
    t_first = torch.autograd.grad(t_out, t_inputs, create_graph=True, allow_unused=True)
    for g, e in zip(first, t_first, strict=True):
        if e is None or not e.requires_grad:
            continue
        second = grad(g, inputs)
        t_second = torch.autograd.grad(e, t_inputs, retain_graph=True, allow_unused=True)
        for g2, e2 in zip(second, t_second, strict=True):
            assert close(g2, 0.0 if e2 is None else e2.item(), rel=1e-8, abs_=1e-10)

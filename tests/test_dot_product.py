"""dot_product (beyond SPEC): one n-ary node for w0*x0 + w1*x1 + ..., against PyTorch float64,
the same sum built from binary ops, finite differences, and every tool that reads a graph."""

from __future__ import annotations

import math
import random
import re
import sys

import pytest

from autograd import (
    Value,
    backward_steps,
    compile,
    dot_product,
    explain,
    grad,
    gradcheck,
    no_grad,
    scope,
    to_dot,
    topological_order,
)
from autograd import compiler as compile_module
from tests.helpers import require

torch = require("torch")


def network(ws_data, xs_data, fused: bool):
    """Two hidden units and an output, each a weighted sum (fused, or sum(w*x) of binary ops),
    with x reused across units and one unit's output reused twice: (output, leaves)."""
    ws = [[Value(w) for w in row] for row in ws_data]
    xs = [Value(x) for x in xs_data]

    def weighted(row, inputs):
        if fused:
            return dot_product(row, inputs)
        return sum((w * x for w, x in zip(row[1:], inputs[1:], strict=True)), row[0] * inputs[0])

    hidden = [weighted(row, xs).tanh() for row in ws[:2]]
    output = weighted(ws[2], [hidden[0], hidden[1], hidden[0]]) * hidden[1]
    return output, [w for row in ws for w in row] + xs


def torch_network(ws_data, xs_data):
    ws = torch.tensor(ws_data, dtype=torch.float64, requires_grad=True)
    xs = torch.tensor(xs_data, dtype=torch.float64, requires_grad=True)
    hidden = [(ws[0] * xs).sum().tanh(), (ws[1] * xs).sum().tanh()]
    inputs = torch.stack([hidden[0], hidden[1], hidden[0]])
    output = (ws[2] * inputs).sum() * hidden[1]
    return output, ws, xs


@pytest.mark.parametrize("seed", range(5))
def test_dot_product_matches_the_binary_graph_and_pytorch(seed):
    rng = random.Random(seed)
    ws_data = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(3)]
    xs_data = [rng.uniform(-2, 2) for _ in range(3)]
    fused, fused_leaves = network(ws_data, xs_data, fused=True)
    binary, binary_leaves = network(ws_data, xs_data, fused=False)
    assert fused.data == binary.data  # the same floats, added in the same order
    fused.backward()
    binary.backward()
    for a, b in zip(fused_leaves, binary_leaves, strict=True):
        assert a.grad == pytest.approx(b.grad, rel=1e-14, abs=1e-15)
    expected, ws, xs = torch_network(ws_data, xs_data)
    expected.backward()
    assert fused.data == pytest.approx(expected.item(), rel=1e-12)
    torch_grads = ws.grad.flatten().tolist() + xs.grad.tolist()
    assert [leaf.grad for leaf in fused_leaves] == pytest.approx(torch_grads, rel=1e-12, abs=1e-14)


def test_dot_product_second_derivatives_match_pytorch():
    ws_data, xs_data = [[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [0.9, -0.8, 0.6]], [0.5, -1.5, 2.0]
    output, leaves = network(ws_data, xs_data, fused=True)
    first = grad(output, leaves, create_graph=True)
    second = grad(first[-3], leaves)  # d/d leaf of d output / d x0
    expected, ws, xs = torch_network(ws_data, xs_data)
    d_ws, d_xs = torch.autograd.grad(expected, (ws, xs), create_graph=True)
    first_expected = d_ws.flatten().tolist() + d_xs.tolist()
    assert [g.data for g in first] == pytest.approx(first_expected, rel=1e-12, abs=1e-14)
    h_ws, h_xs = torch.autograd.grad(d_xs[0], (ws, xs))
    second_expected = h_ws.flatten().tolist() + h_xs.tolist()
    assert second == pytest.approx(second_expected, rel=1e-10, abs=1e-12)


def test_dot_product_agrees_with_central_differences():
    def f(a, b, c, d):
        return dot_product([a, b, a], [c, d, (b * c).tanh()]).sigmoid()

    assert gradcheck(f, [0.3, -0.7, 1.1, 0.25])


def test_dot_product_records_interleaved_parents_and_the_other_factors():
    a, b, c = Value(2.0), Value(-3.0), Value(0.5)
    node = dot_product([a, b], [c, a])
    assert node.op == "dot"
    assert node.data == 2.0 * 0.5 + -3.0 * 2.0
    assert node.parents == (a, c, b, a)
    assert node.local_grads == (0.5, 2.0, 2.0, -3.0)
    node.backward()
    assert (a.grad, b.grad, c.grad) == (0.5 + -3.0, 2.0, 2.0)


def test_dot_product_refuses_what_it_cannot_sum():
    a = Value(1.0)
    with pytest.raises(ValueError, match="same length"):
        dot_product([a, a], [a])
    with pytest.raises(ValueError, match="at least 1"):
        dot_product([], [])
    with pytest.raises(TypeError, match=r"xs\[1\] must be a Value, got float; wrap a number"):
        dot_product([a, a], [a, 2.0])
    with pytest.raises(TypeError, match="two sequences of Values, in order; ws is a Value"):
        dot_product(a, [a])
    with pytest.raises(TypeError, match="xs is a set"):
        dot_product([a, a], {a, Value(2.0)})


def test_dot_product_in_no_grad_and_in_a_scope():
    a, b = Value(1.5), Value(2.0)
    with no_grad():
        leaf = dot_product([a], [b])
    assert leaf.op == "" and leaf.parents == () and leaf.data == 3.0
    with scope("neuron"):
        node = dot_product([a], [b])
    assert node.scope == "neuron"


def test_a_chain_of_dot_nodes_needs_no_recursion():
    """y_{k+1} = y_k x + x x at x = 1: y_k = 0.5 + k, dy_n/dx = sum over k of (y_k + 2)."""
    n = 200_000
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = Value(0.5)
    for _ in range(n):
        y = dot_product([y, x], [x, x])
    assert len(topological_order(y)) == n + 2
    y.backward()
    assert x.grad == 2.5 * n + n * (n - 1) / 2
    assert compile(y)() == 0.5 + n


@pytest.mark.parametrize("chunk_nodes", [1, 3, 4000])
def test_compiled_dot_products_equal_eager(chunk_nodes, monkeypatch):
    monkeypatch.setattr(compile_module, "CHUNK_NODES", chunk_nodes)
    rng = random.Random(1)
    weights = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(6)]
    samples = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(5)]
    hidden = [[dot_product(row, x).relu() for row in weights[:4]] for x in samples]
    outputs = [dot_product(weights[4], h) for h in hidden]
    loss = dot_product(outputs, outputs) + dot_product(weights[5][:1], [outputs[0]])
    data = [leaf for x in samples for leaf in x]
    graph = compile(loss, keep=[outputs[2]], no_grad=data)
    parameters = [w for row in weights for w in row]
    for _ in range(2):
        for leaf in data:
            leaf.data = rng.uniform(-2, 2)
        value = graph()
        compiled = [p.grad for p in parameters]
        for p in parameters:
            p.grad = 0.0
        eager_hidden = [[dot_product(row, x).relu() for row in weights[:4]] for x in samples]
        eager_outputs = [dot_product(weights[4], h) for h in eager_hidden]
        eager = dot_product(eager_outputs, eager_outputs) + dot_product(
            weights[5][:1], [eager_outputs[0]]
        )
        eager.backward()
        assert value == eager.data
        assert graph.kept_values() == [eager_outputs[2].data]
        assert compiled == [p.grad for p in parameters]  # the same floats, in the same order
        for p in parameters:
            p.grad = 0.0


def test_pictures_steps_and_explain_show_a_dot_node_with_one_edge_per_factor():
    ws = [Value(v, label=f"w{i}") for i, v in enumerate((0.5, -1.5, 2.0), 1)]
    xs = [Value(v, label=f"x{i}") for i, v in enumerate((3.0, 0.25, -1.0), 1)]
    y = dot_product(ws, xs).tanh()
    y.label = "y"
    source = to_dot(y, edge_labels=True)
    inputs = {}  # op circle -> the labels of the edges into it (local grads)
    for target, label in re.findall(r"-> (\w+_op) \[[^]]*label=<([^>]*)>", source):
        inputs.setdefault(target, []).append(float(label))
    assert sorted(inputs.values(), key=len)[-1] == [3.0, 0.5, 0.25, -1.5, -1.0, 2.0]
    assert "w1*x1 + w2*x2 + …" in source
    steps = backward_steps(y)
    y.backward()
    for leaf in ws + xs:
        assert sum(s.contribution for s in steps if s.parent is leaf) == leaf.grad
    text = str(explain(y, ws[0]))
    slope = 1 - math.tanh(-0.875) ** 2
    assert f"{slope * 3.0:.4g}" in text


def test_a_compiled_graph_with_dot_nodes_raises_the_eager_domain_error():
    a, b, d = Value(1.0), Value(2.0), Value(3.0)
    root = d.log() + dot_product([a], [b]).tanh() + dot_product([a, b], [b, d]).log()
    graph = compile(root)
    d.data = -0.5  # only log(d) fails (the second dot is 1*2 + 2*-0.5 = 1)
    with pytest.raises(ValueError, match=r"log\(x=-0.5\)"):
        graph()
    d.data, a.data = 3.0, -10.0  # now the dot (-10*2 + 2*3 = -14) is what log refuses
    with pytest.raises(ValueError, match=r"log\(x=-14.0\)"):
        graph()
    assert (a.grad, b.grad, d.grad) == (0.0, 0.0, 0.0)
    nodes = len(topological_order(root))  # 3 leaves, 2 logs, 2 dots, a tanh, 2 adds
    assert nodes == 10
    assert repr(graph) == "CompiledGraph(10 nodes, 3 leaves)"  # the dots counted as one node


def test_the_player_names_the_other_factor_of_each_product_even_for_a_repeated_parent():
    from autograd import step_through

    a, b = Value(1.5, label="a"), Value(-2.0, label="b")
    y = dot_product([a, b], [b, a])
    y.label = "y"
    text = step_through(y).frames[1].caption
    assert "a.grad += y.grad × b = 1 × -2 = -2" in text
    assert "b.grad += y.grad × a = 1 × 1.5 = 1.5" in text
    assert "b.grad += y.grad × a = 1 × 1.5 = 1.5, so b.grad = 1.5 + 1.5 = 3" in text
    assert "a.grad += y.grad × b = 1 × -2 = -2, so a.grad = -2 + (-2) = -4" in text

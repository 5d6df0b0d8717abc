"""The engine's state under threads and interrupts, and gradients at the edges, against PyTorch:
no pass leaves a mark on a node, and no thread's mode or pass corrupts another's."""

from __future__ import annotations

import functools
import math
import sys
import threading
from pathlib import Path

import pytest

import autograd
from autograd import Value, dot_product, grad, no_grad, topological_order
from tests.helpers import require, run_in_threads


@pytest.fixture
def tiny_switch_interval():
    """Threads switch every microsecond, so that they interleave inside the engine."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def small_graph():
    """A graph with shared nodes, a repeated parent, constants and a relu: (a, b, output)."""
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    shared = a * b + a
    output = (shared.tanh() * (b - a)).relu() + shared * shared + a * a
    return a, b, output


# --- issue 11.1: grad mode is per thread -----------------------------------------------------


def test_grad_in_another_thread_never_stops_this_threads_backward(tiny_switch_interval):
    """Thread A loops grad() on its own graph while the main thread builds and backprops."""
    stop = threading.Event()

    def other_thread():
        a = Value(2.0)
        h = (a * a).tanh()
        while not stop.is_set():
            grad(h, [a])
            grad(h, [a], create_graph=True)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        for _ in range(100):
            x = Value(3.0)
            s = sum(x * x for _ in range(100))
            s.backward()
            assert x.grad == 600.0
    finally:
        stop.set()
        thread.join()


def test_grad_without_create_graph_never_switches_grad_mode(monkeypatch):
    import autograd.engine

    def refuse(mode):
        raise AssertionError("grad(create_graph=False) switched grad mode")

    monkeypatch.setattr(autograd.engine, "set_grad_enabled", refuse)
    a, b, output = small_graph()
    with no_grad():
        assert grad(output, [a, b]) == grad(output, [a, b])


# --- issue 11.2: no pass leaves a mark -------------------------------------------------------


def grads_of(nodes):
    return [node.grad for node in nodes]


def ours(frame) -> bool:
    """True for a frame of the autograd package (not a collector callback run in between)."""
    return _in_autograd(frame.f_code.co_filename)


@functools.cache
def _in_autograd(filename: str) -> bool:
    return Path(autograd.__file__).parent in Path(filename).parents


def interrupt_at(line: int):
    """A tracer that raises KeyboardInterrupt at the `line`-th line event of autograd's code,
    counting from 1."""
    count = 0

    def tracer(frame, event, argument):
        nonlocal count
        if event == "line" and ours(frame):
            count += 1
            if count == line:
                raise KeyboardInterrupt
        return tracer

    return tracer


def count_lines(function) -> int:
    count = 0

    def tracer(frame, event, argument):
        nonlocal count
        count += event == "line" and ours(frame)
        return tracer

    sys.settrace(tracer)
    try:
        function()
    finally:
        sys.settrace(None)
    return count


def small_dot_graph():
    """small_graph's kind of graph with dot_product nodes (n-ary), only a and b as leaves."""
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    shared = dot_product([a, b, a], [b, b, a])
    output = dot_product([shared.tanh(), shared, a], [b - a, shared, a]).relu() + shared
    return a, b, output


@pytest.mark.parametrize("graph", [small_graph, small_dot_graph], ids=["binary", "dot"])
@pytest.mark.parametrize("walk", ["backward", "grad", "grad create_graph", "topological_order"])
def test_an_interrupt_at_any_line_leaves_every_grad_a_float(walk, graph):
    """KeyboardInterrupt injected at each line of the pass in turn: every .grad stays a float
    (and grad/topological_order change none), and a later backward is exact."""
    a, b, output = graph()
    nodes = topological_order(output)
    run = {
        "backward": output.backward,
        "grad": lambda: grad(output, [a, b]),
        "grad create_graph": lambda: grad(output, [a, b], create_graph=True),
        "topological_order": lambda: topological_order(output),
    }[walk]
    output.backward()
    expected = grads_of(nodes)  # leaves after one pass, interior grads of that pass
    lines = count_lines(run)
    assert lines > 20
    for line in range(1, lines + 1):
        for node in nodes:
            node.grad = expected[nodes.index(node)]
        sys.settrace(interrupt_at(line))
        try:
            run()
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        assert all(type(node.grad) is float for node in nodes), line
        if walk != "backward":
            assert grads_of(nodes) == expected, line
        a.grad = b.grad = 0.0
        output.backward()
        assert grads_of(nodes) == expected, line


def test_threads_running_backward_and_grad_on_one_graph_stay_exact(tiny_switch_interval):
    """Concurrent backward() calls on a shared graph run one at a time: leaves get the sum."""
    a, b, output = small_graph()
    nodes = topological_order(output)
    output.backward()
    one_pass = grads_of(nodes)
    expected_a = expected_b = 0.0
    for _ in range(40):  # what 40 passes add up to, one after another
        expected_a += a.grad
        expected_b += b.grad
    a.grad = b.grad = 0.0
    reference = grad(output, [a, b])

    def backprop():
        for _ in range(10):
            output.backward()

    def differentiate():
        for _ in range(20):
            assert grad(output, [a, b]) == reference
            assert topological_order(output) == nodes

    run_in_threads(backprop, backprop, backprop, backprop, differentiate, differentiate)
    assert (a.grad, b.grad) == (expected_a, expected_b)
    interior = [node for node in nodes if node.op]
    assert grads_of(interior) == [one_pass[nodes.index(node)] for node in interior]


# --- issue 11.3: a pass is summed per leaf, then added ---------------------------------------


def test_backward_twice_gives_leaves_exactly_twice_one_pass():
    torch = require("torch")
    x = Value(1.0)
    y = x * 0.2 + x * 0.1
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == 2 * first == 0.6000000000000001
    t = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    u = t * 0.2 + t * 0.1
    u.backward(retain_graph=True)
    u.backward()
    assert x.grad == t.grad.item()


# --- issues 11.4 and 11.5: PyTorch's values at the edges -------------------------------------

EDGES = {
    # name: (ours on a Value, torch on a tensor, point)
    "relu().sqrt() at -1": (lambda v: v.relu().sqrt(), lambda t: t.relu().sqrt(), -1.0),
    "relu().sqrt() at 0": (lambda v: v.relu().sqrt(), lambda t: t.relu().sqrt(), 0.0),
    "relu() ** 0.5 at -1": (lambda v: v.relu() ** 0.5, lambda t: t.relu() ** 0.5, -1.0),
    "leaky_relu(-0.5) at nan": (
        lambda v: v.leaky_relu(-0.5),
        lambda t: __import__("torch").nn.functional.leaky_relu(t, -0.5),
        math.nan,
    ),
    "x ** -0.1 at 1e-300": (lambda v: v**-0.1, lambda t: t**-0.1, 1e-300),
    "sqrt at 0": (lambda v: v.sqrt(), lambda t: t.sqrt(), 0.0),
    "x ** 0.5 at 0": (lambda v: v**0.5, lambda t: t**0.5, 0.0),
    "x ** 0 at 5e-324": (lambda v: v**0, lambda t: t**0, 5e-324),
    "x ** 0 at nan": (lambda v: v**0, lambda t: t**0, math.nan),
}


@pytest.mark.parametrize("name", EDGES)
def test_derivatives_at_the_edges_match_torch_to_second_order(name):
    """backward, grad and grad(create_graph=True) twice, each against PyTorch float64."""
    require("torch")
    from tests.torch_oracle import close, torch_derivatives

    ours, theirs, point = EDGES[name]
    expected = torch_derivatives(theirs, [point], order=2)
    x = Value(point)
    ours(x).backward()
    first = grad(ours(x), [x])[0]
    derivative = grad(ours(x), [x], create_graph=True)[0]
    second = grad(derivative, [x])[0]
    assert close(x.grad, expected[(0,)], rel=1e-12)
    assert close(first, expected[(0,)], rel=1e-12)
    assert close(derivative.data, expected[(0,)], rel=1e-12)
    assert close(second, expected[(0, 0)], rel=1e-12), (second, expected)

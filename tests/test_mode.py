"""Grad mode and scopes are per thread: one thread's `no_grad()` or `scope()` never leaks."""

from __future__ import annotations

import threading

import pytest

from autograd import Value, is_grad_enabled, no_grad, scope, topological_order
from nn import MLP
from tests.helpers import run_in_threads


def test_no_grad_in_another_thread_does_not_stop_this_thread_recording():
    inside, release = threading.Event(), threading.Event()

    def holder():
        with no_grad():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert inside.wait(10)
        x = Value(3.0)
        y = x * x
        assert is_grad_enabled() and y.parents == (x, x)
    finally:
        release.set()
        thread.join()


def test_interleaved_no_grad_in_two_threads_restores_each_threads_mode():
    """A in, B in, A out, B out: both threads end recording, and so does the main thread."""
    step = threading.Barrier(2)
    results = {}

    def thread(name, exit_first):
        with no_grad():
            step.wait()  # both inside
            if not exit_first:
                step.wait()  # the other has left
            results[name + " inside"] = is_grad_enabled()
        if exit_first:
            step.wait()
        results[name] = is_grad_enabled() and bool((Value(1.0) * 2).parents)

    run_in_threads(lambda: thread("A", True), lambda: thread("B", False))
    assert results == {"A inside": False, "B inside": False, "A": True, "B": True}
    assert is_grad_enabled()


def test_a_no_grad_decorated_function_runs_in_many_threads_at_once():
    gate = threading.Barrier(4)

    @no_grad
    def made_without_grad():
        gate.wait()
        return Value(1.0) * 2

    outputs = []
    run_in_threads(*[lambda: outputs.append(made_without_grad()) for _ in range(4)])
    assert [v.op for v in outputs] == [""] * 4
    assert is_grad_enabled()


def test_scope_names_nest_and_close():
    leaf = Value(1.0)
    with scope("layer1"):
        w = Value(2.0)
        with scope("neuron3"):
            y = leaf * w
            y.label = "y"
        z = y + 1
    after = z * 2
    assert (leaf.scope, w.scope, y.scope, z.scope, after.scope) == (
        "",
        "layer1",
        "layer1.neuron3",
        "layer1",
        "",
    )
    assert y.label == "y"


def test_scope_is_kept_under_no_grad_and_is_per_thread():
    seen = {}
    with scope("outer"):
        with no_grad():
            seen["no_grad"] = (Value(1.0) * 2).scope
        run_in_threads(lambda: seen.update(other=(Value(1.0) * 2).scope))
    assert seen == {"no_grad": "outer", "other": ""}


@pytest.mark.parametrize("name", ["", "a.b"])
def test_scope_name_must_be_non_empty_without_dots(name):
    with pytest.raises(ValueError, match="scope name"):
        scope(name)


def test_scope_name_must_be_a_str():
    with pytest.raises(TypeError, match="scope name must be a str, got int"):
        scope(3)


def test_mlp_forward_opens_layer_and_neuron_scopes():
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, -2.0])
    scopes = {v.scope for v in topological_order(out) if v.op}
    assert scopes == {f"layer0.neuron{j}" for j in range(3)} | {"layer1.neuron0"}
    assert {p.scope for p in model.parameters()} == {""}  # made in __init__, outside any scope

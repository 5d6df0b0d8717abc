"""Reverse-mode passes over a graph: its topological order, `backward` and `grad`.

Everything here is iterative, so a chain of 10**6 nodes needs no more than the default
recursion limit. Walking the topological order backwards, a node is reached only after every node that
uses it, so its gradient is complete by the time it passes it on to its parents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograd.mode import set_grad_enabled

if TYPE_CHECKING:
    from autograd.value import Value


def topological_order(root: Value) -> list[Value]:
    """Every node below `root` once: parents before children, `root` last."""
    # Depth-first, with an explicit stack: a node is visited once to push its parents and once
    # more, after all of them are placed, to be placed itself.
    order = []
    opened = set()  # nodes whose parents have been pushed
    placed = set()  # nodes already in `order`
    stack = [root]
    while stack:
        node = stack.pop()
        if node in placed:
            continue
        if node in opened:
            placed.add(node)
            order.append(node)
            continue
        opened.add(node)
        stack.append(node)
        if node._dx is not None and node._x not in opened:
            stack.append(node._x)
        if node._dy is not None and node._y not in opened:
            stack.append(node._y)
    return order


def backward(root: Value, gradient: float = 1.0) -> None:
    """Add d root / d leaf * gradient to each leaf's `.grad`; interior grads hold this pass only.

    Leaves accumulate across calls, as in PyTorch; interior nodes are reset first, so calling
    backward twice gives leaves exactly twice the gradient and nothing else drifts.
    """
    from autograd.value import as_float

    gradient = as_float(gradient, "backward gradient")
    order = topological_order(root)
    for node in order:
        if node._op is not None:
            node.grad = 0.0
    root.grad += gradient
    for node in reversed(order):
        g = node.grad
        if node._dx is not None:
            node._x.grad += node._dx * g
        if node._dy is not None:
            node._y.grad += node._dy * g


def grad(output: Value, inputs, create_graph: bool = False) -> list:
    """d output / d input for each input, without touching any `.grad`.

    Returns floats; with `create_graph=True`, Values whose own graphs can be differentiated
    again (each local derivative is rebuilt from its rule on Values). An input that `output`
    does not depend on gets 0.0 (`Value(0.0)` with create_graph).
    """
    from autograd.value import Value

    inputs = [inputs] if isinstance(inputs, Value) else list(inputs)
    for position, item in enumerate(inputs):
        if not isinstance(item, Value):
            raise TypeError(f"grad inputs must be Values, got {type(item).__name__} at {position}")
    if not isinstance(output, Value):
        raise TypeError(f"grad output must be a Value, got {type(output).__name__}")

    grads = {output: 1.0}
    with set_grad_enabled(create_graph):
        for node in reversed(topological_order(output)):
            op = node._op
            if op is None:
                continue
            g = grads[node]
            for index, (parent, local_grad) in enumerate(
                ((node._x, node._dx), (node._y, node._dy))
            ):
                if local_grad is None:
                    continue
                if create_graph:
                    local_grad = op.value_grads[index](node._x, node._y, node)
                contribution = local_grad * g
                previous = grads.get(parent)
                grads[parent] = contribution if previous is None else previous + contribution

    results = [grads.get(item, 0.0) for item in inputs]
    if create_graph:
        results = [r if isinstance(r, Value) else Value(r) for r in results]
    return results

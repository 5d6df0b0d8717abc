"""Reverse-mode passes over a graph: its topological order, `backward` and `grad`.

Everything here is iterative, so a chain of 10**6 nodes needs no more than the default
recursion limit. Walking the topological order backwards, a node is reached only after every
node that uses it, so its gradient is complete by the time it passes it on to its parents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograd.mode import set_grad_enabled

if TYPE_CHECKING:
    from autograd.value import Value


def interior_order(root: Value, keep_grads: bool = True) -> list[Value]:
    """The nodes below `root` that have parents, each once, parents before children.

    Leaves are left out: they have nothing to pass on. With `keep_grads=False` every node in
    the result is left with its `.grad` set to 0.0, ready for a backward pass.
    """
    # Depth-first with an explicit stack: a node is placed once none of its parents is waiting
    # to be placed. One whose parents are all leaves or already placed is placed at once; any
    # other is opened (pushed back under the parents it waits for) and placed when met again.
    # NOTE: a node's visit state is kept in its .grad slot rather than in hash sets (which made
    # backward twice as slow on big graphs). The two marks are new objects for every walk, so a
    # walk interrupted midway leaves no mark that a later walk could mistake for its own.
    opened, placed = object(), object()
    saved = []  # with keep_grads: (node, its grad before the walk)
    order = []
    stack = [root] if root._op is not None else []
    try:
        while stack:
            node = stack.pop()
            mark = node.grad
            if mark is placed:
                continue
            if mark is not opened:
                if keep_grads:
                    saved.append((node, mark))
                # The parents still to place: Values (a local grad is set) that are not leaves.
                x = node._x if node._dx is not None else None
                if x is not None and (x._op is None or x.grad is placed):
                    x = None
                y = node._y if node._dy is not None else None
                if y is not None and (y._op is None or y.grad is placed):
                    y = None
                if x is not None or y is not None:
                    stack.append(node)  # before marking it, so an interrupt can't lose a mark
                    node.grad = opened
                    if x is not None:
                        stack.append(x)
                    if y is not None:
                        stack.append(y)
                    continue
            order.append(node)
            node.grad = placed
    finally:
        # Every marked node is in `order`, or still on `stack` if the walk was interrupted.
        if keep_grads:
            for node, grad in saved:
                node.grad = grad
        else:
            for nodes in (order, stack):
                for node in nodes:
                    node.grad = 0.0
    return order


def topological_order(root: Value) -> list[Value]:
    """Every node below `root` once: parents before children, `root` last; leaves come first."""
    interior = interior_order(root)
    leaves = {}  # a dict keeps the first-seen order and drops repeats
    for node in interior:
        if node._dx is not None and node._x._op is None:
            leaves[node._x] = None
        if node._dy is not None and node._y._op is None:
            leaves[node._y] = None
    # Leaves have no parents, so listing them all first keeps the order topological.
    return [*leaves, *interior] if interior else [root]


def backward(root: Value, gradient: float = 1.0) -> None:
    """Add d root / d leaf * gradient to each leaf's `.grad`; interior grads hold this pass only.

    Leaves accumulate across calls, as in PyTorch; interior nodes are reset first, so calling
    backward twice gives leaves exactly twice the gradient and nothing else drifts.
    """
    from autograd.value import as_float

    gradient = as_float(gradient, "backward gradient")
    order = interior_order(root, keep_grads=False)
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
    does not depend on gets 0.0 (`Value(0.0)` with create_graph). Like `topological_order`,
    it borrows the interior nodes' `.grad` slots during its walk and puts them back after.
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
        for node in reversed(interior_order(output)):
            op = node._op
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
